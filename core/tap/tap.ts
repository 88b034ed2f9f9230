import type { NatsConnection } from '@nats-io/nats-core'
import type { JsonValue } from '../plugin-api.js'
import { H } from '../jetstream/headers.js'
import { parseRecord } from '../dlq/entry.js'

export interface TappedMessage {
  subject: string
  /** The message id (pipeline:stage:epoch:seq), when it has one. */
  id?: string
  record: JsonValue
}

/**
 * A live sample of a subject (or several: a stage's output split into key partitions) through
 * plain NATS subscriptions: it sees what is published from now on, and takes nothing from the
 * stream or its consumers, so the flow is not disturbed. Resolves with the count after `limit`
 * messages, or when `signal` aborts.
 */
export async function tapSubject(nc: NatsConnection, subject: string | string[], opts: { limit?: number; signal?: AbortSignal; onMessage(m: TappedMessage): void }): Promise<number> {
  const subs = (Array.isArray(subject) ? subject : [subject]).map((s) => nc.subscribe(s))
  const stop = (): void => subs.forEach((s) => s.unsubscribe())
  if (opts.signal?.aborted) stop()
  opts.signal?.addEventListener('abort', stop, { once: true })
  let n = 0
  try {
    await Promise.all(
      subs.map(async (sub) => {
        for await (const m of sub) {
          if (opts.limit !== undefined && n >= opts.limit) break
          const id = m.headers?.get(H.msgId)
          opts.onMessage({ subject: m.subject, ...(id ? { id } : {}), record: parseRecord(m.data) })
          if (++n === opts.limit) stop()
        }
      }),
    )
  } finally {
    opts.signal?.removeEventListener('abort', stop)
  }
  return n
}
