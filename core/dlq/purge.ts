import { jetstreamManager } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/nats-core'
import { dlqSubject, streamName } from '../jetstream/names.js'
import { requirePipelineStream } from './pipeline-stream.js'

/** Removes every dead record of the pipeline (only the DLQ subject: the data path is untouched). */
export async function purgeDeadRecords(nc: NatsConnection, pipeline: string, where: string): Promise<number> {
  const jsm = await jetstreamManager(nc)
  await requirePipelineStream(jsm, pipeline, where)
  const r = await jsm.streams.purge(streamName(pipeline), { filter: dlqSubject(pipeline) })
  return r.purged
}
