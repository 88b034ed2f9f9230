import { createHash } from 'node:crypto'
import { NotConnectedError, defineSink, parseDuration } from '../../core/plugin-api.js'
import { attempt, type Outcome, type Request } from './deliver.js'
import { TokenBucket } from './token-bucket.js'

interface WebhookConfig {
  url: string
  method: 'POST' | 'PUT'
  headers: Record<string, string>
  batch: boolean
  batchSize: number
  maxWait: string
  maxRetries: number
  backoff: string
  maxBackoff: string
  timeout: string
  ratePerSecond: number
  burst: number
  concurrency: number
  idempotencyHeader: string
}

/** A request with the indexes (in the sink's batch) of the records it carries. */
interface Call extends Request {
  indexes: number[]
}

export default defineSink<WebhookConfig>({
  open(ctx) {
    const cfg = ctx.config
    const deliver = { url: cfg.url, method: cfg.method, headers: cfg.headers, idempotencyHeader: cfg.idempotencyHeader, timeoutMs: parseDuration(cfg.timeout) }
    const backoffMs = parseDuration(cfg.backoff)
    const maxBackoffMs = parseDuration(cfg.maxBackoff)
    const bucket = cfg.ratePerSecond > 0 ? new TokenBucket(cfg.ratePerSecond, cfg.burst) : undefined
    // Keys delivered by a write that then failed: when the runtime retries that batch, they are
    // not sent again (the idempotency key covers a receiver that sees them anyway).
    let delivered = new Set<string>()
    // Under a rate limit a batch must not outlast the inputs' ack wait: ~5 s of records at most.
    const rows = cfg.batch ? cfg.batchSize : bucket ? Math.max(1, Math.min(500, Math.ceil(cfg.ratePerSecond * 5))) : 500

    const send = async (call: Call): Promise<Outcome> => {
      for (let n = 0; ; n++) {
        await bucket?.take()
        const out = await attempt(call, deliver)
        if (out.kind !== 'retry' || n >= cfg.maxRetries) return out
        const delay = Math.min(maxBackoffMs, out.retryAfterMs ?? backoffMs * 2 ** n)
        ctx.logger.warn({ url: cfg.url, attempt: n + 1, retryInMs: delay, reason: out.reason }, 'webhook failed; retrying')
        await new Promise((resolve) => setTimeout(resolve, delay))
      }
    }

    return {
      batching: { rows, bytes: 4 << 20, maxWaitMs: parseDuration(cfg.maxWait) },
      async write(batch) {
        const keys = batch.ids.map((id) => `${id}@${ctx.stageId}`)
        const calls: Call[] = []
        if (cfg.batch) {
          const todo = keys.flatMap((k, i) => (delivered.has(k) ? [] : [i]))
          for (let s = 0; s < todo.length; s += cfg.batchSize) {
            const indexes = todo.slice(s, s + cfg.batchSize)
            const key = createHash('sha256').update(indexes.map((i) => keys[i]).join('\n')).digest('hex').slice(0, 40)
            calls.push({ indexes, key, body: JSON.stringify(indexes.map((i) => batch.records[i])) })
          }
        } else {
          keys.forEach((key, i) => delivered.has(key) || calls.push({ indexes: [i], key, body: JSON.stringify(batch.records[i]) }))
        }

        const rejected: { index: number; reason: string }[] = []
        let failure: string | undefined
        let next = 0
        const worker = async (): Promise<void> => {
          while (next < calls.length && failure === undefined) {
            const call = calls[next++]!
            const out = await send(call)
            if (out.kind === 'ok') for (const i of call.indexes) delivered.add(keys[i]!)
            else if (out.kind === 'reject') for (const i of call.indexes) rejected.push({ index: i, reason: out.reason })
            else failure = out.reason
          }
        }
        await Promise.all(Array.from({ length: Math.min(cfg.concurrency, calls.length) }, worker))
        if (failure !== undefined) {
          // The peer is down: the runtime keeps the inputs and retries the batch with back-off.
          throw new NotConnectedError(`webhook ${cfg.url} still failing after ${cfg.maxRetries} retries: ${failure}`)
        }
        delivered = new Set()
        return rejected.length ? { rejected } : undefined
      },
    }
  },
})
