import type { JetStreamManager } from '@nats-io/jetstream'
import type { Logger } from '../log/logger.js'
import { dlqSubject } from '../jetstream/names.js'

export interface RetentionKeeperOptions {
  jsm: JetStreamManager
  stream: string
  pipeline: string
  maxBytes: number
  logger: Logger
  /** Start making room when the stream holds more than this share of maxBytes. */
  highWater?: number
  intervalMs?: number
}

/**
 * The stream is bounded with discard: new, so a full stream pushes back instead of dropping
 * unconsumed data (DESIGN §3). But a limits stream also counts data every consumer has already
 * acknowledged: left alone, a busy pipeline would stall once `maxBytes` of history piled up,
 * long before `maxAge`. Near the bound, this purges — per data subject — the messages every
 * consumer of that subject has acknowledged, oldest first. Replay history shrinks only under
 * pressure; unconsumed data and dead letters are never touched.
 */
export function startRetentionKeeper(o: RetentionKeeperOptions): { stop(): void } {
  const highWater = o.highWater ?? 0.8
  let busy = false
  const tick = async (): Promise<void> => {
    if (busy) return
    busy = true
    try {
      const info = await o.jsm.streams.info(o.stream)
      if (info.state.bytes < o.maxBytes * highWater) return
      // The lowest acknowledged sequence per subject, over every consumer reading it.
      const floors = new Map<string, number>()
      for await (const c of o.jsm.consumers.list(o.stream)) {
        const subject = c.config.filter_subject
        if (!subject || subject === dlqSubject(o.pipeline) || /[*>]/.test(subject)) continue
        const floor = c.ack_floor.stream_seq
        floors.set(subject, Math.min(floors.get(subject) ?? Infinity, floor))
      }
      let purged = 0
      for (const [subject, floor] of floors) {
        if (floor <= 0) continue
        const r = await o.jsm.streams.purge(o.stream, { filter: subject, seq: floor + 1 })
        purged += r.purged
      }
      if (purged > 0) o.logger.warn({ stream: o.stream, purged, bytes: info.state.bytes, maxBytes: o.maxBytes }, 'stream near its size bound: purged acknowledged history to make room (replay now starts later)')
    } catch (err) {
      o.logger.debug({ err: (err as Error).message }, 'retention check failed')
    } finally {
      busy = false
    }
  }
  const timer = setInterval(() => void tick(), o.intervalMs ?? 2000)
  timer.unref?.()
  return { stop: () => clearInterval(timer) }
}
