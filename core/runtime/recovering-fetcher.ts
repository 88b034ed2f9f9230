import type { JsMsg } from '@nats-io/jetstream'
import type { BatchFetcher } from '../jetstream/consumer.js'
import type { Logger } from '../log/logger.js'
import { errorMessage } from '../errors.js'
import type { WedgeDetector } from './wedge-detector.js'

export interface RecoveringFetcherOptions {
  /** The durable, for the log. */
  consumer: string
  /** A new fetcher on the same durable, to replace a wedged one. */
  open(): BatchFetcher
  detector: WedgeDetector
  /** How often a waiting `next()` asks the detector, ms (the fetch period). */
  periodMs: number
  logger: Logger
  /** Counted in metrics. */
  onRestart(): void
}

/**
 * A BatchFetcher that replaces its inner fetcher when the detector finds it wedged. The durable
 * stays as it is (its position, its acks): only the client side of the fetch loop is new. A
 * replaced fetcher is stopped; whatever it still hands over afterwards was delivered to this
 * process, so it is passed on like any batch and takes the normal ack path. Inputs the caller
 * already holds are untouched.
 */
export class RecoveringFetcher implements BatchFetcher {
  private current: BatchFetcher
  /** The current fetcher's next(), asked and not yet handed over. */
  private asked: Promise<JsMsg[] | undefined> | undefined
  /** Batches replaced fetchers delivered after they were replaced. */
  private readonly late: JsMsg[][] = []
  private wake: (() => void) | undefined
  private stopped = false
  /** Stopped while wedged: the fetcher will never end by itself, so the drain ends without it. */
  private abandoned = false

  constructor(
    first: BatchFetcher,
    private readonly opts: RecoveringFetcherOptions,
  ) {
    this.current = first
  }

  async next(): Promise<JsMsg[] | undefined> {
    for (;;) {
      const late = this.late.shift()
      if (late) {
        this.opts.detector.delivered()
        return late
      }
      if (this.abandoned) return undefined
      const asked = (this.asked ??= this.current.next())
      let timer: NodeJS.Timeout | undefined
      const woken = new Promise<'tick'>((resolve) => {
        this.wake = () => resolve('tick')
        timer = setTimeout(this.wake, this.opts.periodMs)
      })
      let got: JsMsg[] | undefined | 'tick' | 'replaced'
      try {
        got = await Promise.race([asked, woken])
      } catch (err) {
        // The fetcher failed for good (its durable is gone) — unless it was replaced meanwhile.
        if (asked === this.asked) throw err
        got = 'replaced'
      } finally {
        clearTimeout(timer)
        this.wake = undefined
      }
      if (got === 'replaced') continue
      if (got !== 'tick') {
        // A batch of a fetcher replaced meanwhile is taken by its drain (below), not here.
        if (asked !== this.asked) continue
        this.asked = undefined
        if (got && got.length > 0) this.opts.detector.delivered()
        return got
      }
      if (this.opts.detector.due()) void this.judge()
    }
  }

  stop(opts?: { now?: boolean }): void {
    this.stopped = true
    this.current.stop(opts)
  }

  private async judge(): Promise<void> {
    if ((await this.opts.detector.check()) !== 'wedged') return
    if (this.stopped) {
      // Its fetched-ahead messages are redelivered after ack_wait; what the caller holds is acked as usual.
      this.opts.logger.warn({ consumer: this.opts.consumer }, 'the consumer stopped delivering while draining: the drain ends without waiting for its fetch')
      this.abandoned = true
      this.wake?.()
      return
    }
    this.opts.logger.warn({ consumer: this.opts.consumer }, 'the consumer stopped delivering (fetches got no messages and no heartbeats while messages wait): recreating its fetcher; the durable and its acks stay')
    const old = this.current
    const oldAsked = this.asked
    this.current = this.opts.open()
    this.asked = undefined
    this.opts.detector.restarted()
    this.opts.onRestart()
    // Cut its open fetch; what it already received still comes out of next().
    old.stop({ now: true })
    void this.drain(old, oldAsked ?? old.next())
    this.wake?.()
  }

  /** Hands over what a replaced fetcher still delivers, until it ends (or forever, if it stays wedged). */
  private async drain(old: BatchFetcher, first: Promise<JsMsg[] | undefined>): Promise<void> {
    try {
      for (let p = first; ; p = old.next()) {
        const batch = await p
        if (batch === undefined) return
        if (batch.length === 0) continue
        this.late.push(batch)
        this.wake?.()
      }
    } catch (err) {
      this.opts.logger.debug({ consumer: this.opts.consumer, err: errorMessage(err) }, 'the replaced fetcher ended with an error')
    }
  }
}
