import { jetstreamManager } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/nats-core'
import { TributaryError } from '../errors.js'
import { dlqResolvedSubject, dlqSubject, streamName } from '../jetstream/names.js'
import { requirePipelineStream, subjectCount } from './pipeline-stream.js'
import { readSubject } from './subject-reader.js'
import { readResolved } from './resolved.js'
import { toDeadRecord } from './entry.js'
import type { DeadRecord } from './types.js'

/**
 * The outstanding dead records of a pipeline, oldest first: the messages on its DLQ subject
 * that no redrive has marked as resolved. Read with ordered consumers, so the pipeline's
 * durables are never touched.
 */
export async function readDeadRecords(nc: NatsConnection, pipeline: string, where: string): Promise<DeadRecord[]> {
  const jsm = await jetstreamManager(nc)
  const info = await requirePipelineStream(jsm, pipeline, where, { dlqCount: true })
  const stored = subjectCount(info, dlqSubject(pipeline))
  if (stored === 0) return []
  const resolved = await readResolved(nc, pipeline, subjectCount(info, dlqResolvedSubject(pipeline)))
  const out: DeadRecord[] = []
  await readSubject(nc, streamName(pipeline), dlqSubject(pipeline), stored, (m) => {
    if (!resolved.has(m.seq)) out.push(toDeadRecord(m.seq, m.time, m.headers, m.data))
  })
  return out
}

/** One outstanding DLQ entry by its stream sequence; an error when that sequence is not one. */
export async function getDeadRecord(nc: NatsConnection, pipeline: string, seq: number, where: string): Promise<DeadRecord> {
  const jsm = await jetstreamManager(nc)
  const info = await requirePipelineStream(jsm, pipeline, where, { dlqCount: true })
  const m = await jsm.streams.getMessage(streamName(pipeline), { seq })
  if (!m || m.subject !== dlqSubject(pipeline) || (await readResolved(nc, pipeline, subjectCount(info, dlqResolvedSubject(pipeline)))).has(seq)) {
    throw new TributaryError('E_USAGE', `pipeline "${pipeline}" has no outstanding dead record with sequence ${seq}`, { hint: `\`tributary dlq list ${pipeline}\` shows the outstanding ones` })
  }
  return toDeadRecord(m.seq, m.time, m.header, m.data)
}
