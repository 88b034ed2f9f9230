import { jetstreamManager } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/nats-core'
import { dlqResolvedSubject, dlqSubject, streamName } from '../jetstream/names.js'
import { readDeadRecords } from './read.js'

/**
 * Removes every dead record of the pipeline: its DLQ subject and the redrive markers, nothing
 * else (the data path is untouched). Returns how many outstanding entries were dropped.
 */
export async function purgeDeadRecords(nc: NatsConnection, pipeline: string, where: string): Promise<number> {
  const outstanding = (await readDeadRecords(nc, pipeline, where)).length
  const jsm = await jetstreamManager(nc)
  const stream = streamName(pipeline)
  // Entries first: a crash in between leaves markers of nothing, which hide nothing.
  await jsm.streams.purge(stream, { filter: dlqSubject(pipeline) })
  await jsm.streams.purge(stream, { filter: dlqResolvedSubject(pipeline) })
  return outstanding
}
