import type { Logger } from '../../core/plugin-api.js'
import type { Entry } from './entry.js'
import type { History } from './history.js'
import { Ring } from './ring.js'
import type { Subscriber } from './subscriber.js'

/** History records read per step of a catch-up (the client's queue is let half empty between steps). */
const CATCH_UP_STEP = 256

export interface ChannelEvents {
  /** Records a resuming client got, from memory or read back from the stream. */
  resumed(n: number, from: 'memory' | 'stream'): void
  /** Records a resuming client asked for that the history no longer had. */
  lost(n: number): void
}

/**
 * The live side of a channel: every entry read from the history goes to the ring and to each
 * live subscriber. A subscriber that resumes (`Last-Event-ID`) first catches up, from the stream
 * while its gap is older than the ring and from the ring for the rest, and joins the live set in
 * the same synchronous step as it takes the ring's tail, so no entry is missed or given twice.
 */
export class Channel {
  private readonly ring: Ring
  private readonly live = new Set<Subscriber>()
  private readonly catchingUp = new Set<Subscriber>()
  /** Sequence of the last entry offered to live subscribers. */
  liveSeq: number
  private seqWaiters: { seq: number; resolve: () => void }[] = []

  constructor(
    ringSize: number,
    startSeq: number,
    private readonly history: History,
    private readonly events: ChannelEvents,
    private readonly logger: Logger,
  ) {
    this.ring = new Ring(ringSize)
    this.liveSeq = startSeq
  }

  get clients(): number {
    return this.live.size + this.catchingUp.size
  }

  deliver(e: Entry): void {
    this.liveSeq = e.seq
    this.ring.push(e)
    for (const s of this.live) s.offer(e)
    if (this.seqWaiters.length) {
      const due = this.seqWaiters.filter((w) => w.seq <= e.seq)
      this.seqWaiters = this.seqWaiters.filter((w) => w.seq > e.seq)
      for (const w of due) w.resolve()
    }
  }

  /** Resolves once entries up to `seq` were offered (or after `timeoutMs`). */
  reached(seq: number, timeoutMs: number): Promise<boolean> {
    if (this.liveSeq >= seq) return Promise.resolve(true)
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.seqWaiters = this.seqWaiters.filter((w) => w !== waiter)
        resolve(false)
      }, timeoutMs)
      const waiter = {
        seq,
        resolve: () => {
          clearTimeout(timer)
          resolve(true)
        },
      }
      this.seqWaiters.push(waiter)
    })
  }

  /**
   * Adds a subscriber that has seen everything up to `after` (undefined: a new client, live from
   * now on). Resolves once it is live (or gone).
   */
  async attach(sub: Subscriber, after: number | undefined): Promise<void> {
    if (after === undefined || after >= this.liveSeq) {
      this.join(sub)
      return
    }
    this.catchingUp.add(sub)
    try {
      await this.catchUp(sub, after)
    } finally {
      this.catchingUp.delete(sub)
    }
  }

  detach(sub: Subscriber): void {
    this.live.delete(sub)
    this.catchingUp.delete(sub)
  }

  heartbeat(): void {
    for (const s of this.live) s.heartbeat()
  }

  /** Offers what waits, then closes every client (gracefully within `waitMs`). */
  async close(waitMs: number): Promise<void> {
    const all = [...this.live, ...this.catchingUp]
    this.live.clear()
    this.catchingUp.clear()
    await Promise.all(all.map((s) => s.end(waitMs)))
  }

  private join(sub: Subscriber): void {
    if (!sub.closed) this.live.add(sub)
  }

  private async catchUp(sub: Subscriber, after: number): Promise<void> {
    let last = after
    let reader: Awaited<ReturnType<History['range']>> | undefined
    try {
      for (;;) {
        if (sub.closed) return
        // Synchronous from here to join(): the ring cannot move in between.
        const ringFirst = this.ring.first
        if (last >= this.liveSeq || (ringFirst !== undefined && ringFirst <= last + 1)) {
          const tail = this.ring.after(last)
          for (const e of tail) sub.offer(e)
          if (tail.length) this.events.resumed(tail.length, 'memory')
          this.join(sub)
          return
        }
        // Older than the ring: read the stream up to where the ring (or the live feed) takes over.
        if (!reader) {
          const { first, messages } = await this.history.bounds()
          // An empty history reports first = last + 1 of what it once held.
          if (messages === 0 || first > last + 1) {
            // Deleted by retention: tell the client how many it will not get.
            const upTo = messages === 0 ? this.liveSeq : Math.min(first - 1, this.liveSeq)
            this.lost(sub, upTo - last)
            last = upTo
            continue
          }
          reader = await this.history.range(last + 1)
        }
        const limit = (this.ring.first ?? this.liveSeq + 1) - 1
        const batch = await reader.next(Math.max(1, Math.min(CATCH_UP_STEP, limit - last)))
        if (batch.length === 0) {
          // Nothing stored between here and the ring: deleted while we read.
          const upTo = Math.min((this.ring.first ?? this.liveSeq + 1) - 1, this.liveSeq)
          if (upTo > last) this.lost(sub, upTo - last)
          last = Math.max(last, upTo)
          continue
        }
        let given = 0
        for (const e of batch) {
          // From the ring's start on (it may have moved while we read), the ring gives the rest.
          const takeover = this.ring.first ?? this.liveSeq + 1
          if (e.seq >= takeover) {
            // The stream had nothing between `last` and this entry: what the ring lacks is lost.
            const upTo = Math.min(e.seq, takeover) - 1
            if (upTo > last) this.lost(sub, upTo - last)
            last = Math.max(last, upTo)
            break
          }
          if (e.seq > last + 1) this.lost(sub, e.seq - last - 1)
          sub.offer(e)
          given++
          last = e.seq
        }
        if (given) this.events.resumed(given, 'stream')
        if (given < batch.length) {
          // The reader went past what we gave: the ring takes over at the next step.
          await reader.close()
          reader = undefined
        }
        await sub.room()
      }
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, after: last }, 'push: catching a client up from the history failed; closing it (it may reconnect)')
      sub.close(false)
    } finally {
      await reader?.close()
    }
  }

  private lost(sub: Subscriber, n: number): void {
    if (n <= 0) return
    sub.notice({ notice: 'gap', data: { missed: n } })
    this.events.lost(n)
  }
}
