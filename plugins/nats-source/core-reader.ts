import type { Msg, NatsConnection } from '@nats-io/nats-core'
import { createOffsetCounter, type Logger, type SourceItem, type SourceReader, type StateStore } from '../../core/plugin-api.js'
import { toItem, type ItemOptions } from './to-item.js'
import { Waiter } from './waiter.js'

export interface CoreReaderOptions extends ItemOptions {
  subject: string
  queue?: string
  batchSize: number
  bufferSize: number
}

/**
 * Reads a core NATS subject. Core NATS keeps nothing: messages published while the pipeline is
 * not subscribed are missed, and beyond `bufferSize` waiting messages new ones are dropped and
 * counted (the publisher is never slowed down). Offsets come from a counter in KV, so message
 * ids never repeat across restarts.
 */
export function coreReader(nc: NatsConnection, state: StateStore, logger: Logger, signal: AbortSignal, o: CoreReaderOptions): SourceReader {
  const offsets = createOffsetCounter(state)
  const buffer: Msg[] = []
  const waiter = new Waiter()
  let dropped = 0
  let reported = 0
  const sub = nc.subscribe(o.subject, {
    ...(o.queue && { queue: o.queue }),
    callback: (err, m) => {
      if (err) return
      if (buffer.length >= o.bufferSize) {
        dropped++
        return
      }
      buffer.push(m)
      if (buffer.length === 1) waiter.wake()
    },
  })
  // Stop taking messages at once on drain: what arrives after could never be stored.
  const stop = (): void => {
    if (!sub.isClosed()) sub.unsubscribe()
    waiter.wake()
  }
  signal.addEventListener('abort', stop, { once: true })
  logger.info({ subject: o.subject, queue: o.queue }, 'nats source subscribed')

  return {
    async read() {
      while (buffer.length === 0) {
        if (signal.aborted) return { items: [] }
        await waiter.wait()
      }
      if (dropped !== reported) {
        logger.warn({ dropped, bufferSize: o.bufferSize }, 'nats source dropped messages: the pipeline is slower than the subject')
        reported = dropped
      }
      const msgs = buffer.splice(0, o.batchSize)
      let offset = await offsets.take(msgs.length)
      const items: SourceItem[] = msgs.map((m) => toItem(m, offset++, o))
      return { items }
    },
    async close() {
      signal.removeEventListener('abort', stop)
      if (!sub.isClosed()) sub.unsubscribe()
      if (buffer.length) logger.warn({ lost: buffer.length }, 'nats source stopped with core NATS messages not yet stored (core NATS cannot redeliver them)')
    },
  }
}
