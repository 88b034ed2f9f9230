import { defineSink, parseDuration } from '../../core/plugin-api.js'
import { NdjsonFile } from './ndjson-file.js'

interface FileSinkConfig {
  path: string
  rotateBytes: number
  keep: number
  fsync: boolean
  idField?: string
  batch: { rows: number; maxWait: string }
}

export default defineSink<FileSinkConfig>({
  open(ctx) {
    const cfg = ctx.config
    const file = new NdjsonFile(cfg.path, { rotateBytes: cfg.rotateBytes, keep: cfg.keep, fsync: cfg.fsync })
    const idField = cfg.idField
    return {
      batching: { rows: cfg.batch.rows, bytes: 16 << 20, maxWaitMs: parseDuration(cfg.batch.maxWait) },
      async write(batch) {
        const lines = batch.records.map((r, i) => JSON.stringify(idField ? { ...r, [idField]: batch.ids[i]! } : r) + '\n')
        // One append (and one fsync per file touched): the inputs are acknowledged only after this.
        await file.append(lines)
      },
      close: () => file.close(),
    }
  },
})
