import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/nats-core'
import { TributaryError } from '../errors.js'
import { dlqSubject, streamName } from '../jetstream/names.js'
import { dlqCount, requirePipelineStream } from './pipeline-stream.js'
import { toDeadRecord } from './entry.js'
import type { DeadRecord } from './types.js'

const FETCH = 1000

/**
 * Every message still on the pipeline's DLQ subject, oldest first. Read with an ordered
 * (ephemeral, unacknowledged) consumer filtered on that subject: the pipeline's durables are
 * never touched.
 */
export async function readDeadRecords(nc: NatsConnection, pipeline: string, where: string): Promise<DeadRecord[]> {
  const jsm = await jetstreamManager(nc)
  const info = await requirePipelineStream(jsm, pipeline, where, { dlqCount: true })
  if (dlqCount(info, pipeline) === 0) return []
  const stream = streamName(pipeline)
  const subject = dlqSubject(pipeline)
  const consumer = await jetstream(nc).consumers.get(stream, { filter_subjects: subject, deliver_policy: DeliverPolicy.All })
  const out: DeadRecord[] = []
  try {
    // Until the consumer says nothing is pending (`last_by_subj` cannot tell the end on 2.9: once
    // the subject's last message is deleted, it finds no message at all).
    for (let end = false; !end; ) {
      let got = 0
      for await (const m of await consumer.fetch({ max_messages: FETCH, expires: 2000 })) {
        got++
        out.push(toDeadRecord(m.seq, m.time, m.headers, m.data))
        if (m.info.pending === 0) end = true
      }
      if (got === 0) end = true
    }
  } finally {
    await consumer.delete().catch(() => undefined)
  }
  return out
}

/** One DLQ entry by its stream sequence; an error when that sequence is not a dead record. */
export async function getDeadRecord(nc: NatsConnection, pipeline: string, seq: number, where: string): Promise<DeadRecord> {
  const jsm = await jetstreamManager(nc)
  await requirePipelineStream(jsm, pipeline, where)
  const m = await jsm.streams.getMessage(streamName(pipeline), { seq })
  if (!m || m.subject !== dlqSubject(pipeline)) {
    throw new TributaryError('E_USAGE', `pipeline "${pipeline}" has no dead record with sequence ${seq}`, { hint: `\`tributary dlq list ${pipeline}\` shows the outstanding ones` })
  }
  return toDeadRecord(m.seq, m.time, m.header, m.data)
}

/** How many dead records the pipeline has now (one stream info, no reading). */
export async function countDeadRecords(nc: NatsConnection, pipeline: string, where: string): Promise<number> {
  const jsm = await jetstreamManager(nc)
  return dlqCount(await requirePipelineStream(jsm, pipeline, where, { dlqCount: true }), pipeline)
}
