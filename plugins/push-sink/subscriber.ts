import type { CompiledExpression } from '../../core/plugin-api.js'
import type { Entry } from './entry.js'
import type { Transport } from './transport.js'

/** A message to the client that is not a record: `gap` (records the history no longer had). */
export interface Notice {
  readonly notice: string
  readonly data: Record<string, number | string>
}

type Item = Entry | Notice

/** Records handed to the connection at once: one write for many records. */
const CHUNK = 256

export interface SubscriberOptions {
  team: string
  buffer: number
  policy: 'drop-oldest' | 'disconnect'
  filter?: CompiledExpression
  /** Records written to the connection. */
  onSent(n: number): void
  /** Records discarded by drop-oldest. */
  onDropped(n: number): void
  /** Disconnected because its buffer was full (policy `disconnect`). */
  onSlow(): void
  onClosed(): void
}

/**
 * One client: a bounded queue in front of its connection. `offer()` never waits, so the channel
 * feeds every client without any client holding it up; a full queue applies the policy. While
 * the connection keeps up, the queue is written out within the same tick or the next one.
 */
export class Subscriber {
  private items: Item[] = []
  private head = 0
  private scheduled = false
  private waitingDrain = false
  private pendingDrops = 0
  private roomWaiters: (() => void)[] = []
  private emptyWaiters: (() => void)[] = []
  closed = false
  readonly stats = { sent: 0, dropped: 0 }

  constructor(
    readonly transport: Transport,
    private readonly o: SubscriberOptions,
  ) {
    transport.onClose(() => this.closedByPeer())
  }

  get team(): string {
    return this.o.team
  }

  get queued(): number {
    return this.items.length - this.head
  }

  /** Hands a record to this client if its filter takes it; never waits. */
  offer(e: Entry): void {
    if (this.closed) return
    if (this.o.filter) {
      // A filter that fails on a record (a field missing, a wrong type) does not take it.
      try {
        if (!this.o.filter.test(e.record)) return
      } catch {
        return
      }
    }
    if (this.queued >= this.o.buffer) {
      if (this.o.policy === 'disconnect') {
        this.cutOff()
        return
      }
      this.dropOldest()
    }
    this.items.push(e)
    this.kick()
  }

  notice(n: Notice): void {
    if (this.closed) return
    this.items.push(n)
    this.kick()
  }

  /** Resolves once the queue is at most half full (or the client is gone): for catching up without overflowing it. */
  room(): Promise<void> {
    if (this.closed || this.queued <= this.o.buffer / 2) return Promise.resolve()
    return new Promise((resolve) => this.roomWaiters.push(resolve))
  }

  heartbeat(): void {
    if (!this.closed && this.queued === 0 && this.transport.writable()) this.transport.heartbeat()
  }

  /** Writes what waits (graceful: up to `waitMs` for a slow client), then closes. */
  async end(waitMs: number): Promise<void> {
    if (this.closed) return
    this.pump()
    if (this.queued > 0) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        new Promise<void>((resolve) => this.emptyWaiters.push(resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs))),
      ])
      clearTimeout(timer)
    }
    this.close(this.queued === 0)
  }

  close(graceful: boolean): void {
    if (this.closed) return
    this.closed = true
    this.items = []
    this.head = 0
    this.transport.close(graceful)
    this.wakeRoom()
    this.wakeEmpty()
    this.o.onClosed()
  }

  private closedByPeer(): void {
    if (this.closed) return
    this.closed = true
    this.items = []
    this.head = 0
    this.wakeRoom()
    this.wakeEmpty()
    this.o.onClosed()
  }

  private cutOff(): void {
    this.o.onSlow()
    this.close(false)
  }

  private dropOldest(): void {
    const oldest = this.items[this.head]!
    this.items[this.head++] = undefined as unknown as Item
    if ('seq' in oldest) {
      this.pendingDrops++
      this.stats.dropped++
      this.o.onDropped(1)
    }
    this.compact()
  }

  /** Writes now when a chunk is ready and the connection has room, else on the next tick. */
  private kick(): void {
    if (!this.waitingDrain && this.queued >= Math.min(CHUNK, this.o.buffer) && this.transport.writable()) this.pump()
    else if (!this.scheduled) {
      this.scheduled = true
      setImmediate(() => {
        this.scheduled = false
        this.pump()
      })
    }
  }

  private pump(): void {
    while (!this.closed && this.queued > 0 && !this.waitingDrain && this.transport.writable()) {
      const frames: string[] = []
      if (this.pendingDrops > 0) {
        // Said before the records that follow the gap, so the client knows where it is.
        frames.push(this.transport.notice('dropped', { count: this.pendingDrops }))
        this.pendingDrops = 0
      }
      let records = 0
      const end = Math.min(this.items.length, this.head + CHUNK)
      for (let i = this.head; i < end; i++) {
        const item = this.items[i]!
        if ('seq' in item) {
          frames.push(this.transport.frame(item))
          records++
        } else frames.push(this.transport.notice(item.notice, item.data))
      }
      this.head = end
      this.compact()
      this.transport.send(frames)
      this.stats.sent += records
      this.o.onSent(records)
    }
    if (!this.closed && this.queued > 0 && !this.waitingDrain) {
      this.waitingDrain = true
      this.transport.onDrain(() => {
        this.waitingDrain = false
        this.pump()
      })
    }
    if (this.queued <= this.o.buffer / 2) this.wakeRoom()
    if (this.queued === 0) this.wakeEmpty()
  }

  private compact(): void {
    if (this.head === this.items.length) {
      this.items = []
      this.head = 0
    } else if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
  }

  private wakeEmpty(): void {
    const w = this.emptyWaiters
    this.emptyWaiters = []
    for (const f of w) f()
  }

  private wakeRoom(): void {
    const w = this.roomWaiters
    this.roomWaiters = []
    for (const f of w) f()
  }
}
