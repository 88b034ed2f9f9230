import { AckPolicy, DeliverPolicy, type ConsumerInfo, type JetStreamManager } from '@nats-io/jetstream'
import { nanos } from '@nats-io/nats-core'
import { TributaryError } from '../errors.js'
import { consumerName } from '../jetstream/names.js'
import { getConsumer } from '../jetstream/consumer.js'

export function replayDurableName(pipeline: string, epoch: number): string {
  return consumerName(pipeline, `replay-${epoch}`)
}

export interface ReplayDurableSpec {
  name: string
  subject: string
  startSeq: number
  maxAckPending: number
  ackWaitMs: number
}

/**
 * The replay's own durable on the source subject, from `startSeq`: the pipeline's durables are
 * never moved. One process reads it, so ack policy all: one ack per write settles the inputs
 * before it, and the group retries failed inputs in process (DESIGN §3). If the replay process
 * dies, the server removes it after a quiet period.
 */
export async function createReplayDurable(jsm: JetStreamManager, stream: string, d: ReplayDurableSpec): Promise<ConsumerInfo> {
  // Adding an existing durable silently updates it (FACTS): never take over someone else's.
  if (await getConsumer(jsm, stream, d.name)) {
    throw new TributaryError('E_STATE', `consumer ${d.name} already exists on stream ${stream}`, { hint: 'another replay of this epoch is running or was killed; wait for it, or delete the consumer' })
  }
  return jsm.consumers.add(stream, {
    durable_name: d.name,
    filter_subject: d.subject,
    ack_policy: AckPolicy.All,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: d.startSeq,
    max_ack_pending: d.maxAckPending,
    ack_wait: nanos(d.ackWaitMs),
    max_deliver: -1,
    inactive_threshold: nanos(15 * 60_000),
  })
}

export async function deleteReplayDurable(jsm: JetStreamManager, stream: string, name: string): Promise<void> {
  if (await getConsumer(jsm, stream, name)) await jsm.consumers.delete(stream, name)
}
