import type { SourceItem } from '../../core/plugin-api.js'

/** A received record before it has an offset. */
export type Received = Omit<SourceItem, 'offset'>

/**
 * Records between the sockets and JetStream, with one bound for both halves: records waiting
 * to be read, plus records handed to the runtime and not yet settled (SourceBatch.settled).
 * At `max`, `full` turns true: TCP pauses its connections, UDP drops datagrams; `onRoom` fires
 * once the load is back under half of it (hysteresis, so connections do not flap).
 */
export class Intake {
  private queue: Received[] = []
  private head = 0
  private inFlight = 0
  private waiter: (() => void) | undefined
  private wasFull = false

  constructor(
    private readonly max: number,
    private readonly onRoom: () => void,
  ) {}

  get load(): number {
    return this.queue.length - this.head + this.inFlight
  }

  get full(): boolean {
    if (this.load >= this.max) this.wasFull = true
    return this.load >= this.max
  }

  get waiting(): number {
    return this.queue.length - this.head
  }

  push(r: Received): void {
    this.queue.push(r)
    const w = this.waiter
    this.waiter = undefined
    w?.()
  }

  /** Resolves when records are waiting, or when `signal` aborts. */
  async ready(signal: AbortSignal): Promise<void> {
    while (this.waiting === 0 && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          signal.removeEventListener('abort', done)
          resolve()
        }
        this.waiter = done
        signal.addEventListener('abort', done, { once: true })
      })
    }
  }

  /** Takes up to `n` waiting records; they count as in flight until `settle(count)`. */
  take(n: number): Received[] {
    const out = this.queue.slice(this.head, this.head + n)
    this.head += out.length
    // Compact now and then rather than shift() per record.
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head)
      this.head = 0
    }
    this.inFlight += out.length
    return out
  }

  settle(count: number): void {
    this.inFlight -= count
    this.checkRoom()
  }

  private checkRoom(): void {
    if (this.wasFull && this.load < this.max / 2) {
      this.wasFull = false
      this.onRoom()
    }
  }
}
