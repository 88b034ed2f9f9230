import { AckPolicy, DeliverPolicy, JetStreamApiCodes, JetStreamApiError, type ConsumerInfo, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream'
import { nanos } from '@nats-io/nats-core'

export interface DurableSpec {
  stream: string
  name: string
  filterSubject: string
  /** Backpressure bound: above what the stage holds unacked (FACTS: else delivery stops). */
  maxAckPending: number
  ackWaitMs: number
  maxDeliver: number
}

export async function getConsumer(jsm: JetStreamManager, stream: string, name: string): Promise<ConsumerInfo | undefined> {
  try {
    return await jsm.consumers.info(stream, name)
  } catch (err) {
    if (err instanceof JetStreamApiError && (err.code === JetStreamApiCodes.ConsumerNotFound || err.code === JetStreamApiCodes.StreamNotFound)) return undefined
    throw err
  }
}

/** Durable pull consumer with explicit acks (safe when several processes share it, DESIGN §3). */
export async function ensureDurable(jsm: JetStreamManager, d: DurableSpec): Promise<ConsumerInfo> {
  const cfg = {
    durable_name: d.name,
    filter_subject: d.filterSubject,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    max_ack_pending: d.maxAckPending,
    ack_wait: nanos(d.ackWaitMs),
    max_deliver: d.maxDeliver,
    max_batch: 0,
  }
  const existing = await getConsumer(jsm, d.stream, d.name)
  if (existing) {
    const c = existing.config
    if (c.max_ack_pending === cfg.max_ack_pending && c.ack_wait === cfg.ack_wait && c.max_deliver === cfg.max_deliver && c.filter_subject === cfg.filter_subject) {
      return existing
    }
    // 2.9: adding an existing durable with a new config updates it in place (FACTS).
  }
  return jsm.consumers.add(d.stream, cfg)
}

export interface BatchFetcher {
  /** Next batch (possibly empty after `expiresMs` without messages); undefined once stopped. */
  next(): Promise<JsMsg[] | undefined>
  stop(): void
}

/**
 * Batch fetches with the next one asked for while the current batch is processed (FACTS: 1.2×).
 * A background loop drains each fetch's iterator promptly into a small queue, so a long
 * processing step never leaves an iterator unread (which fails with "heartbeats missed").
 */
export function createBatchFetcher(
  js: JetStreamClient,
  stream: string,
  durable: string,
  opts: { batch: number; expiresMs: number; prefetch?: number; onError?: (err: unknown, attempt: number) => void },
): BatchFetcher {
  const queue: JsMsg[][] = []
  const prefetch = opts.prefetch ?? 1
  let stopped = false
  let failure: unknown
  let notifyConsumer: (() => void) | undefined
  let notifyProducer: (() => void) | undefined
  const wakeConsumer = (): void => {
    const f = notifyConsumer
    notifyConsumer = undefined
    f?.()
  }

  const loop = async (): Promise<void> => {
    let attempt = 0
    while (!stopped) {
      try {
        const consumer = await js.consumers.get(stream, durable)
        while (!stopped) {
          while (queue.length > prefetch && !stopped) await new Promise<void>((r) => (notifyProducer = r))
          if (stopped) break
          const batch: JsMsg[] = []
          try {
            const iter = await consumer.fetch({ max_messages: opts.batch, expires: opts.expiresMs })
            for await (const m of iter) batch.push(m)
          } catch (err) {
            // Messages delivered before the fetch failed ("heartbeats missed" on a busy process)
            // are ours: process them, rather than leave them unacked until ack_wait (a drain
            // would end with them pending).
            if (batch.length > 0) {
              queue.push(batch)
              wakeConsumer()
            }
            throw err
          }
          queue.push(batch)
          attempt = 0
          wakeConsumer()
        }
      } catch (err) {
        // A restarting or unreachable server: wait and fetch again; the consumer keeps its place.
        if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound) throw err
        opts.onError?.(err, attempt)
        await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** Math.min(attempt++, 5))))
      }
    }
  }
  let finished = false
  const running = loop()
    .catch((err: unknown) => {
      failure = err
    })
    .finally(() => {
      finished = true
      wakeConsumer()
    })

  return {
    async next() {
      for (;;) {
        const b = queue.shift()
        if (b) {
          notifyProducer?.()
          return b
        }
        if (failure) throw failure
        // After stop(), a fetch already asked for still delivers: hand that batch over too,
        // so a drain acks it instead of leaving it to be redelivered after ack_wait.
        if (stopped && finished) return undefined
        await new Promise<void>((r) => (notifyConsumer = r))
      }
    },
    stop() {
      stopped = true
      notifyProducer?.()
      void running
    },
  }
}
