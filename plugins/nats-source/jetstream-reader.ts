import { AckPolicy, DeliverPolicy, JetStreamApiCodes, JetStreamApiError, jetstream, jetstreamManager, type ConsumerConfig, type JsMsg } from '@nats-io/jetstream'
import { nanos, type NatsConnection } from '@nats-io/nats-core'
import type { Logger, SourceItem, SourceReader } from '../../core/plugin-api.js'
import { toItem, type ItemOptions } from './to-item.js'
import { Waiter } from './waiter.js'

export interface JetStreamReaderOptions extends ItemOptions {
  stream: string
  filterSubject?: string
  durable: string
  deliverPolicy: 'all' | 'new' | 'last'
  ackWaitMs: number
  maxAckPending: number
  batchSize: number
}

const POLICIES = { all: DeliverPolicy.All, new: DeliverPolicy.New, last: DeliverPolicy.Last } as const

/**
 * Reads an existing JetStream stream through a durable consumer of its own, so a restart resumes
 * after the last message acknowledged. A message is acknowledged upstream only once its record
 * is durably in the pipeline's stream (the batch is settled); its offset is its upstream stream
 * sequence, so a redelivered message gets the same message id and is dropped as a duplicate.
 * The consumer's `max_ack_pending` bounds what is held in memory.
 */
export async function jetStreamReader(nc: NatsConnection, logger: Logger, signal: AbortSignal, o: JetStreamReaderOptions): Promise<SourceReader> {
  const jsm = await jetstreamManager(nc)
  await jsm.streams.info(o.stream).catch((err: unknown) => {
    const missing = err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound
    throw new Error(missing ? `there is no JetStream stream "${o.stream}" to read; check \`stream\` (and \`servers\`)` : `cannot read stream "${o.stream}": ${(err as Error).message}`)
  })
  // An empty filter_subject must be left out when creating: the client would put it in the API subject.
  const wanted: Partial<ConsumerConfig> = { ack_wait: nanos(o.ackWaitMs), max_ack_pending: o.maxAckPending, ...(o.filterSubject && { filter_subject: o.filterSubject }) }
  const existing = await jsm.consumers.info(o.stream, o.durable).catch((err: unknown) => {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound) return undefined
    throw err
  })
  if (!existing) {
    await jsm.consumers.add(o.stream, { durable_name: o.durable, ack_policy: AckPolicy.Explicit, deliver_policy: POLICIES[o.deliverPolicy], ...wanted })
  } else {
    const had = existing.config.filter_subject ?? ''
    if (had !== '' && !o.filterSubject) {
      throw new Error(`the durable consumer "${o.durable}" on stream "${o.stream}" reads only ${had}; to read the whole stream, delete that consumer or give this stage another \`durable\` name`)
    }
    if (existing.config.ack_wait !== wanted.ack_wait || existing.config.max_ack_pending !== wanted.max_ack_pending || had !== (o.filterSubject ?? '')) {
      await jsm.consumers.update(o.stream, o.durable, wanted)
    }
  }
  const consumer = await jetstream(nc).consumers.get(o.stream, o.durable)

  const buffer: JsMsg[] = []
  const unsettled = new Set<JsMsg>()
  const waiter = new Waiter()
  let failure: Error | undefined
  const messages = await consumer.consume({
    max_messages: Math.min(o.maxAckPending, o.batchSize * 2),
    callback: (m) => {
      buffer.push(m)
      unsettled.add(m)
      if (buffer.length === 1) waiter.wake()
    },
  })
  void messages.closed().then((err) => {
    if (err) failure = err
    waiter.wake()
  })
  signal.addEventListener('abort', () => waiter.wake(), { once: true })
  logger.info({ stream: o.stream, filterSubject: o.filterSubject, durable: o.durable, resumed: existing !== undefined }, 'nats source reading a JetStream stream')

  return {
    async read() {
      while (buffer.length === 0) {
        if (failure) throw new Error(`reading stream "${o.stream}" failed: ${failure.message}`)
        if (signal.aborted) return { items: [] }
        await waiter.wait()
      }
      const msgs = buffer.splice(0, o.batchSize)
      const items: SourceItem[] = msgs.map((m) => toItem(m, m.seq, o, Math.floor(m.info.timestampNanos / 1e6)))
      return {
        items,
        settled(result) {
          // Acks are sent, not awaited; a failed batch is handed back for redelivery at once.
          for (const m of msgs) {
            if (result.ok) m.ack()
            else m.nak()
            unsettled.delete(m)
          }
        },
      }
    },
    async close() {
      await messages.close()
      // Messages held but never stored go back now, rather than after `ackWait`.
      for (const m of unsettled) m.nak()
      unsettled.clear()
      buffer.length = 0
      await nc.flush().catch(() => undefined)
    },
  }
}
