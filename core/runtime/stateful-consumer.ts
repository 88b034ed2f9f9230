import { AckPolicy, DeliverPolicy, JetStreamApiCodes, JetStreamApiError, type ConsumerConfig, type JetStreamManager } from '@nats-io/jetstream'
import { nanos } from '@nats-io/nats-core'
import type { Logger } from '../log/logger.js'
import { errorMessage } from '../errors.js'
import { processedNote } from '../jetstream/durable-handover.js'
import { backoffDelay, sleep } from './backoff.js'

/** Tries to position a durable before giving up (backing off to 5 s: a few minutes of a NATS outage). */
const POSITION_ATTEMPTS = 40

export interface PositionedDurable {
  stream: string
  name: string
  filterSubject: string
  /** Deliver the inputs after this stream sequence (0: from the start). */
  afterSeq: number
  /** Above what the stage holds unacked between two saves. */
  maxAckPending: number
  ackWaitMs: number
  /** Inputs up to here may have been processed already (kept in the description: redeliveredThrough). */
  processedThrough?: number
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
    ...(d.processedThrough !== undefined && d.processedThrough > d.afterSeq ? { description: processedNote(d.processedThrough) } : {}),
  }
  await jsm.consumers.add(d.stream, cfg)
}

/**
 * positionDurable, tried again while NATS does not answer: repositioning usually follows a server
 * restart, and the durable is positioned once it answers again.
 */
export async function positionDurableWhenReachable(jsm: JetStreamManager, d: PositionedDurable, opts: { logger: Logger; signal: AbortSignal }): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await positionDurable(jsm, d)
    } catch (err) {
      if (attempt + 1 >= POSITION_ATTEMPTS || opts.signal.aborted) throw err
      opts.logger.warn({ consumer: d.name, attempt: attempt + 1, err: errorMessage(err) }, 'positioning the consumer failed; retrying')
      await sleep(backoffDelay(attempt, 250, 5000), opts.signal)
    }
  }
}
