import { headers as natsHeaders, type MsgHdrs } from '@nats-io/nats-core'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { NotConnectedError, defineSink, parseDuration, type NatsConnectOptions } from '../../core/plugin-api.js'
import { compileSubject } from './subject-template.js'

interface NatsSinkConfig extends NatsConnectOptions {
  subject: string
  stream?: string
  headers: Record<string, string>
  flush: boolean
  timeout: string
  batch: { rows: number; maxWait: string }
}

const encoder = new TextEncoder()

export default defineSink<NatsSinkConfig>({
  async open(ctx) {
    const cfg = ctx.config
    const subject = compileSubject(cfg.subject)
    const timeoutMs = parseDuration(cfg.timeout)
    const conn = await ctx.nats({ servers: cfg.servers, user: cfg.user, password: cfg.password, token: cfg.token, creds: cfg.creds })
    const nc = conn.nc
    const js = cfg.stream ? jetstream(nc, { timeout: timeoutMs }) : undefined
    if (cfg.stream) {
      const jsm = await jetstreamManager(nc)
      await jsm.streams.info(cfg.stream).catch((err: unknown) => {
        throw new Error(`JetStream stream "${cfg.stream}" is not available (${(err as Error).message}); create it, or drop \`stream\` to publish with core NATS`)
      })
    }
    const headersFor = (id: string): MsgHdrs => {
      const h = natsHeaders()
      for (const [k, v] of Object.entries(cfg.headers)) h.set(k, v)
      h.set('Nats-Msg-Id', id)
      return h
    }
    ctx.logger.info({ subject: cfg.subject, stream: cfg.stream, mode: cfg.stream ? 'jetstream' : 'core' }, 'nats sink ready')

    return {
      batching: { rows: cfg.batch.rows, bytes: 8 << 20, maxWaitMs: parseDuration(cfg.batch.maxWait) },
      async write(batch) {
        const rejected: { index: number; reason: string }[] = []
        const maxPayload = nc.info?.max_payload ?? Infinity
        const acks: Promise<unknown>[] = []
        for (let i = 0; i < batch.records.length; i++) {
          const s = subject.render(batch.records[i]!)
          if ('error' in s) {
            rejected.push({ index: i, reason: s.error })
            continue
          }
          const data = encoder.encode(JSON.stringify(batch.records[i]))
          if (data.length > maxPayload) {
            rejected.push({ index: i, reason: `record is ${data.length} bytes, above the server's max_payload (${maxPayload})` })
            continue
          }
          // The sink's stage id keeps two sinks that write one record into one stream apart.
          const id = `${batch.ids[i]!}@${ctx.stageId}`
          if (js) acks.push(js.publish(s.subject, data, { msgID: id, headers: headersFor(id), expect: { streamName: cfg.stream }, timeout: timeoutMs }))
          else nc.publish(s.subject, data, { headers: headersFor(id) })
        }
        if (js) {
          // All publishes of the batch in flight at once; a failure retries the batch, and the
          // message ids make JetStream drop the copies of what was already stored.
          const results = await Promise.allSettled(acks)
          const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
          if (failed) throw new Error(`JetStream publish to stream ${cfg.stream} failed: ${(failed.reason as Error).message}`)
        } else if (cfg.flush) {
          await flushWithin(nc.flush(), timeoutMs)
        }
        return rejected.length ? { rejected } : undefined
      },
      close: () => conn.close(),
    }
  },
})

/** Core NATS confirms nothing but the round trip: it proves the server has every message sent before it. */
async function flushWithin(flush: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NotConnectedError(`NATS did not confirm the flush within ${ms} ms`)), ms)
  })
  try {
    await Promise.race([flush, timeout])
  } finally {
    clearTimeout(timer)
  }
}
