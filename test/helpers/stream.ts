import { jetstream, jetstreamManager, AckPolicy, DeliverPolicy } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/nats-core'
import { stageSubject, streamName } from '../../core/jetstream/names.js'

export interface StreamEntry {
  seq: number
  data: string
  msgId: string
}

/** How many messages a pipeline's stream holds on a stage's subject (0 when the stream is missing). */
export async function countSubject(nc: NatsConnection, pipeline: string, stageId: string): Promise<number> {
  const jsm = await jetstreamManager(nc)
  const subject = stageSubject(pipeline, stageId)
  const info = await jsm.streams.info(streamName(pipeline), { subjects_filter: subject }).catch(() => undefined)
  return info?.state.subjects?.[subject] ?? 0
}

/** Every message on a stage's output subject, in stream order, read with an ephemeral consumer. */
export async function readSubject(nc: NatsConnection, pipeline: string, stageId: string): Promise<StreamEntry[]> {
  const n = await countSubject(nc, pipeline, stageId)
  if (n === 0) return []
  const jsm = await jetstreamManager(nc)
  const stream = streamName(pipeline)
  const ci = await jsm.consumers.add(stream, { ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.All, filter_subject: stageSubject(pipeline, stageId), inactive_threshold: 10_000_000_000 })
  const c = await jetstream(nc).consumers.get(stream, ci.name)
  const out: StreamEntry[] = []
  try {
    while (out.length < n) {
      for await (const m of await c.fetch({ max_messages: n - out.length, expires: 2000 })) {
        out.push({ seq: m.seq, data: m.string(), msgId: m.headers?.get('Nats-Msg-Id') ?? '' })
      }
    }
  } finally {
    await jsm.consumers.delete(stream, ci.name)
  }
  return out
}

/** The offset part of a message id `pipeline:stage:epoch:offset`. */
export function offsetOf(msgId: string): number {
  return Number(msgId.split(':')[3])
}
