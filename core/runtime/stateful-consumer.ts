import { AckPolicy, DeliverPolicy, JetStreamApiCodes, JetStreamApiError, type ConsumerConfig, type JetStreamManager } from '@nats-io/jetstream'
import { nanos } from '@nats-io/nats-core'

export interface PositionedDurable {
  stream: string
  name: string
  filterSubject: string
  /** Deliver the inputs after this stream sequence (0: from the start). */
  afterSeq: number
  /** Above what the stage holds unacked between two saves. */
  maxAckPending: number
  ackWaitMs: number
}

/**
 * The durable consumer of a stateful stage, (re)created to start right after the sequence its
 * saved state covers: the KV state is the stage's position, the consumer follows it. 2.9 cannot
 * move a durable, so it is deleted and added again — at start, and when the stage rolls back to
 * its last save. Ack policy all: one process owns a stateful stage, and one ack after each save
 * settles every input before it (DESIGN §3).
 */
export async function positionDurable(jsm: JetStreamManager, d: PositionedDurable): Promise<void> {
  await jsm.consumers.delete(d.stream, d.name).catch((err: unknown) => {
    if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound)) throw err
  })
  const cfg: Partial<ConsumerConfig> = {
    durable_name: d.name,
    filter_subject: d.filterSubject,
    ack_policy: AckPolicy.All,
    ...(d.afterSeq > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: d.afterSeq + 1 } : { deliver_policy: DeliverPolicy.All }),
    max_ack_pending: d.maxAckPending,
    ack_wait: nanos(d.ackWaitMs),
    // Never given up on by the server: a stateful stage never asks for a redelivery.
    max_deliver: -1,
    max_batch: 0,
  }
  await jsm.consumers.add(d.stream, cfg)
}
