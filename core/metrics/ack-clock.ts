import type { StageMeter } from './types.js'

/**
 * Ack latency of a consuming group, per batch: remembers when each batch arrived (by the running
 * count of inputs received) and, as inputs are acked in order, reports each batch that is fully
 * acknowledged. Two array operations per batch; nothing per record.
 */
export class AckClock {
  private readonly ends: number[] = []
  private readonly times: number[] = []
  private received = 0
  private ackedCount = 0
  /** Inputs of batches already reported (whole batches only). */
  private reported = 0

  constructor(private readonly meter: StageMeter) {}

  /** A batch of `n` inputs arrived now. */
  arrived(n: number): void {
    this.received += n
    this.ends.push(this.received)
    this.times.push(performance.now())
  }

  /** The next `n` inputs (in arrival order) were acknowledged now. */
  acked(n: number): void {
    this.ackedCount += n
    const now = performance.now()
    let done = 0
    while (done < this.ends.length && this.ends[done]! <= this.ackedCount) {
      this.meter.acked(this.ends[done]! - this.reported, (now - this.times[done]!) / 1000)
      this.reported = this.ends[done]!
      done++
    }
    if (done > 0) {
      this.ends.splice(0, done)
      this.times.splice(0, done)
    }
  }
}
