import { deliveryNumbers, type DeliveryNumbers } from '../jetstream/reply-subject.js'
import type { JsMsg } from '@nats-io/jetstream'
import type { BatchFetcher } from '../jetstream/consumer.js'
import { H, hasHeader } from '../jetstream/headers.js'
import { DeliveryOrder } from '../runtime/delivery-order.js'
import type { Logger } from '../log/logger.js'

export interface ReplayCounts {
  /** Inputs handed to the group (first deliveries). */
  read: number
  /** Redrive copies left out because their original is replayed too. */
  skipped: number
}

export interface BoundedFetcher extends BatchFetcher {
  readonly counts: ReplayCounts
  /** True once every input up to the end was read and settled. */
  readonly caughtUp: boolean
}

export interface BoundedFetcherOptions {
  startSeq: number
  endSeq: number
  /**
   * Asked when there is nothing new to hand over: true when nothing at or before the end is
   * outstanding (every input acked, none waiting for a retry) — the replay is then caught up.
   */
  settled(endSeen: boolean): Promise<boolean>
  /**
   * The replay's durable is ack policy all, so a delivery lost with a connection (or repeated after
   * a server restart) would be settled unseen by the next ack: each fetched batch must continue
   * the stream (core/runtime/delivery-order.ts), and on a break the durable is recreated after
   * the last input taken (this returns a fetcher on it) and the batch is fetched again.
   * Absent: no check.
   */
  reposition?(afterSeq: number): Promise<BatchFetcher>
  /** Where the durable starts: its delivered consumer and stream sequences (for the check). */
  delivered?: { consumerSeq: number; streamSeq: number }
  logger?: Logger
}

/**
 * A replay's fetcher: the durable's batches up to the replay's finite end. Messages after the
 * end belong to the live pipeline and are acked away; copies that `dlq replay` put back are
 * skipped when their original is in the replayed range (the original is reprocessed itself, so
 * the copy would count it twice). Ends (undefined) once caught up, so the group drains.
 */
export function boundedFetcher(first: BatchFetcher, opts: BoundedFetcherOptions): BoundedFetcher {
  let inner = first
  const order = opts.reposition ? new DeliveryOrder(opts.delivered?.consumerSeq ?? 0, opts.delivered?.streamSeq ?? 0) : undefined
  const counts: ReplayCounts = { read: 0, skipped: 0 }
  let endSeen = false
  let flushAsked = false
  let caughtUp = false
  const scratch: DeliveryNumbers = { delivered: 0, streamSeq: 0, consumerSeq: 0 }
  const finish = (): undefined => {
    caughtUp = true
    inner.stop({ now: true })
    return undefined
  }

  const redundantCopy = (m: JsMsg): boolean => {
    if (!hasHeader(m, H.redriveOf)) return false
    const origin = Number(m.headers?.get(H.originSeq))
    return Number.isInteger(origin) && origin > 0 && origin >= opts.startSeq
  }

  return {
    counts,
    get caughtUp() {
      return caughtUp
    },
    async next() {
      if (caughtUp) return undefined
      if (endSeen) {
        // Everything up to the end was handed over: once written and acked the replay is done,
        // so write it now (an empty batch) rather than wait out a fetch that brings nothing.
        if (await opts.settled(true)) return finish()
        if (!flushAsked) {
          flushAsked = true
          return []
        }
      }
      let batch = await inner.next()
      // With the order check, a batch it accepted holds first deliveries, their stream sequences in `seqs`.
      const seqs: number[] = []
      while (batch?.length && order && !order.accept(batch, seqs)) {
        // Everything before the break was handed over (and is written and acked as usual); the
        // recreated durable starts right after it.
        const after = order.through
        opts.logger?.warn({ after }, 'replay: a delivery was lost or repeated (a connection cut, a server restart); reading on after the last input taken')
        inner.stop({ now: true })
        inner = await opts.reposition!(after)
        order.reset(after)
        batch = await inner.next()
      }
      if (batch === undefined) return undefined
      const out: JsMsg[] = []
      for (let i = 0; i < batch.length; i++) {
        const m = batch[i]!
        const d = order ? undefined : deliveryNumbers(m, scratch)
        const seq = d ? d.streamSeq : seqs[i]!
        if (seq >= opts.endSeq) endSeen = true
        const first = d ? d.delivered === 1 : true
        if (seq > opts.endSeq || redundantCopy(m)) {
          if (first && seq <= opts.endSeq) counts.skipped++
          m.ack()
          continue
        }
        if (first) counts.read++
        out.push(m)
      }
      if (out.length === 0 && (endSeen || batch.length === 0) && (await opts.settled(endSeen))) return finish()
      return out
    },
    stop(o) {
      inner.stop(o)
    },
  }
}
