import type { JsMsg } from '@nats-io/jetstream'
import { deliveryNumbers, type DeliveryNumbers } from '../jetstream/reply-subject.js'

/**
 * The in-order check of a durable this process reads alone under ack policy all. There, one ack
 * settles every delivery before it, so a delivery that never arrived (lost with a connection or a
 * server restart) would be settled unseen by the next ack. Every delivery must be a first one,
 * its consumer sequence the next, its stream sequence past the last: anything else means the
 * stream was broken, and the reader goes back to what it settled (repositions its durable).
 */
export class DeliveryOrder {
  private nextDelivery: number
  private lastSeq: number
  private readonly scratch: DeliveryNumbers = { delivered: 0, streamSeq: 0, consumerSeq: 0 }

  /** `delivered`: the durable's consumer sequence so far (0 when new or just positioned); `afterSeq`: the stream sequence it reads after. */
  constructor(delivered = 0, afterSeq = 0) {
    this.nextDelivery = delivered + 1
    this.lastSeq = afterSeq
  }

  /**
   * True, and the batch taken as the continuation, when it continues the stream; false (nothing
   * taken) otherwise. `seqs`: filled with each message's stream sequence, for a caller that needs
   * them too (one read of each reply subject).
   */
  accept(msgs: readonly JsMsg[], seqs?: number[]): boolean {
    let expect = this.nextDelivery
    let after = this.lastSeq
    for (let i = 0; i < msgs.length; i++) {
      const d = deliveryNumbers(msgs[i]!, this.scratch)
      if (d.delivered !== 1 || d.consumerSeq !== expect || d.streamSeq <= after) return false
      expect++
      after = d.streamSeq
      if (seqs) seqs[i] = after
    }
    this.nextDelivery = expect
    this.lastSeq = after
    return true
  }

  /** The stream sequence of the last input taken: what a repositioned durable reads after. */
  get through(): number {
    return this.lastSeq
  }

  /** The durable was positioned after `afterSeq`: its deliveries count from 1 again. */
  reset(afterSeq: number): void {
    this.nextDelivery = 1
    this.lastSeq = afterSeq
  }
}
