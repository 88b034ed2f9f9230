import { defineSink } from '../../core/plugin-api.js'

export default defineSink<{ pretty: boolean }>({
  open(ctx) {
    const indent = ctx.config.pretty ? 2 : undefined
    return {
      batching: { rows: 500, bytes: 1 << 20, maxWaitMs: 100 },
      write(batch) {
        const text = batch.records.map((r) => JSON.stringify(r, null, indent)).join('\n') + '\n'
        // Resolve only once the data has left the process buffer, so acks follow real output.
        return new Promise<void>((resolve, reject) => process.stdout.write(text, (err) => (err ? reject(err) : resolve())))
      },
    }
  },
})
