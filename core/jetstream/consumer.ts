import { AckPolicy, DeliverPolicy, JetStreamApiCodes, JetStreamApiError, type ConsumerConfig, type ConsumerInfo, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream'
import { nanos } from '@nats-io/nats-core'
import { handOverDurable } from './durable-handover.js'

export interface DurableSpec {
  stream: string
  name: string
  filterSubject: string
  /** Backpressure bound: above what the stage holds unacked (FACTS: else delivery stops). */
  maxAckPending: number
  ackWaitMs: number
  maxDeliver: number
  /** Ack policy all: only where exactly one process reads the durable (DESIGN §3). */
  ackAll?: boolean
}

export async function getConsumer(jsm: JetStreamManager, stream: string, name: string): Promise<ConsumerInfo | undefined> {
  try {
    return await jsm.consumers.info(stream, name)
  } catch (err) {
    if (err instanceof JetStreamApiError && (err.code === JetStreamApiCodes.ConsumerNotFound || err.code === JetStreamApiCodes.StreamNotFound)) return undefined
    throw err
  }
}

/**
 * The durable pull consumer of a stateless group. Explicit acks by default: safe when several
 * processes share it (a fleet). `ackAll` when one process owns it (a `run` under its run lease):
 * one ack settles a batch (DESIGN §3); the caller owns it from now on, so inputs the last owner
 * left pending are delivered again first. A durable under the other policy is recreated
 * (core/jetstream/durable-handover.ts): 2.9 cannot change a consumer's ack policy in place.
 */
export async function ensureDurable(jsm: JetStreamManager, d: DurableSpec): Promise<ConsumerInfo> {
  const policy = d.ackAll ? AckPolicy.All : AckPolicy.Explicit
  const existing = await getConsumer(jsm, d.stream, d.name)
  // A new owner of an ack-all durable starts at its first unsettled input (core/jetstream/durable-handover.ts).
  if (existing && (existing.config.ack_policy !== policy || (d.ackAll && existing.num_ack_pending > 0))) return handOverDurable(jsm, d, existing, policy)
  const cfg: Partial<ConsumerConfig> = {
    durable_name: d.name,
    filter_subject: d.filterSubject,
    ack_policy: policy,
    deliver_policy: DeliverPolicy.All,
    max_ack_pending: d.maxAckPending,
    ack_wait: nanos(d.ackWaitMs),
    max_deliver: d.maxDeliver,
    max_batch: 0,
  }
  if (existing) {
    const c = existing.config
    if (c.max_ack_pending === cfg.max_ack_pending && c.ack_wait === cfg.ack_wait && c.max_deliver === cfg.max_deliver && c.filter_subject === cfg.filter_subject) {
      return existing
    }
    // 2.9: adding an existing durable with a new config updates it in place (FACTS); where it
    // starts and why (a switched durable's description) cannot change, so they are kept.
    Object.assign(cfg, { deliver_policy: c.deliver_policy, opt_start_seq: c.opt_start_seq, description: c.description })
  }
  return jsm.consumers.add(d.stream, cfg)
}

export interface BatchFetcher {
  /**
   * The messages delivered since the last call, at least one and at most the batch size; an
   * empty batch once a fetch of `expiresMs` brought nothing; undefined once stopped.
   */
  next(): Promise<JsMsg[] | undefined>
  /**
   * Stop fetching. A fetch already asked for may still deliver, and its messages are handed over
   * (a drain acks them instead of leaving them to ack_wait), so the end waits for it to expire.
   * `now`: the consumer is known to have nothing left for us (pending and ack-pending both 0
   * after a finished input): the open fetch is cut instead of waited out.
   */
  stop(opts?: { now?: boolean }): void
}

/**
 * Pull fetches of up to `batch` messages, one after the other, with the next asked for while
 * the consumer processes (FACTS: 1.2×). A background loop drains each fetch's iterator into a
 * buffer as messages arrive, so a long processing step never leaves an iterator unread (which
 * fails with "heartbeats missed"), and `next()` hands over what has arrived without waiting for
 * the fetch to fill or expire: under light load a record is processed as soon as it is
 * delivered (latency), under heavy load batches are full (throughput). No new fetch is asked
 * for while more than `prefetch` batches wait in the buffer.
 */
export function createBatchFetcher(
  js: JetStreamClient,
  stream: string,
  durable: string,
  opts: { batch: number; expiresMs: number; prefetch?: number; onError?: (err: unknown, attempt: number) => void },
): BatchFetcher {
  let buffer: JsMsg[] = []
  /** A fetch ended with nothing delivered while the buffer was empty: `next()` reports it once. */
  let emptyFetch = false
  const prefetch = opts.prefetch ?? 1
  let stopped = false
  let failure: unknown
  let open: { stop(): void } | undefined
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
          while (buffer.length > prefetch * opts.batch && !stopped) await new Promise<void>((r) => (notifyProducer = r))
          if (stopped) break
          let got = 0
          try {
            const iter = await consumer.fetch({ max_messages: opts.batch, expires: opts.expiresMs })
            open = iter
            for await (const m of iter) {
              // Messages delivered before a fetch fails ("heartbeats missed" on a busy process)
              // are ours as well: they stay in the buffer and are processed.
              buffer.push(m)
              if (got++ === 0 || buffer.length >= opts.batch) wakeConsumer()
            }
          } finally {
            open = undefined
          }
          if (got === 0 && buffer.length === 0) emptyFetch = true
          attempt = 0
          wakeConsumer()
        }
      } catch (err) {
        // A restarting or unreachable server: wait and fetch again; the consumer keeps its place.
        if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound) throw err
        wakeConsumer()
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
        if (buffer.length > 0) {
          let out: JsMsg[]
          if (buffer.length <= opts.batch) {
            out = buffer
            buffer = []
          } else out = buffer.splice(0, opts.batch)
          notifyProducer?.()
          return out
        }
        if (failure) throw failure
        if (emptyFetch) {
          emptyFetch = false
          return []
        }
        if (stopped && finished) return undefined
        await new Promise<void>((r) => (notifyConsumer = r))
      }
    },
    stop(o) {
      stopped = true
      if (o?.now) open?.stop()
      notifyProducer?.()
      void running
    },
  }
}
