import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/nats-core'
import { TributaryError } from '../errors.js'
import { createPublisher, type JetStreamPublisher } from '../jetstream/publisher.js'
import { openStateBucket } from '../jetstream/kv-state.js'
import { bumpEpoch } from '../runtime/epoch.js'
import { requirePipelineStream } from './pipeline-stream.js'
import { readDeadRecords } from './read.js'
import { oneInputKey, redriveMessage, redriveTarget } from './redrive-message.js'
import { resolvedMarkers } from './resolved.js'
import { clearIntent, readIntent, writeIntent, type RedriveSelection } from './redrive-intent.js'
import type { DeadRecord, RedriveSummary } from './types.js'
import { onPartition, savedRoutes } from '../partitions/saved-routes.js'
import type { SubjectRoute } from '../partitions/route.js'

/**
 * `dlq replay`: puts dead records back where they failed — each on its origin subject, read by
 * the stage's consumer again — under a new epoch (so they are not dropped as duplicates of the
 * first pass), and takes the entries off the list once every republish is acknowledged. A
 * running pipeline picks them up at once; a stopped one on its next `run`.
 */
export async function redriveDeadRecords(nc: NatsConnection, pipeline: string, where: string, sel: RedriveSelection = {}): Promise<RedriveSummary> {
  const jsm = await jetstreamManager(nc)
  await requirePipelineStream(jsm, pipeline, where)
  const kv = await openStateBucket(jetstream(nc), pipeline)
  const publisher = createPublisher(nc)
  const summary: RedriveSummary = { pipeline, epoch: 0, redriven: 0, republished: 0, subjects: {}, recovered: 0 }
  // A record dead at the source goes back on the source's subject — or, when the stage reading
  // it is split into key partitions, on its partition's.
  const routes = await savedRoutes(jsm, kv, pipeline)
  try {
    let entries = await readDeadRecords(nc, pipeline, where)
    const missing = (sel.seqs ?? []).filter((s) => !entries.some((e) => e.seq === s))

    const unfinished = await readIntent(kv)
    if (unfinished) {
      const again = select(entries, unfinished).filter((e) => e.seq <= unfinished.upTo)
      summary.recovered = again.length
      await redrive(publisher, pipeline, unfinished.epoch, again, summary, routes)
      await clearIntent(kv)
      const done = new Set(again.map((e) => e.seq))
      entries = entries.filter((e) => !done.has(e.seq))
    }
    if (missing.length > 0) {
      throw new TributaryError('E_USAGE', `pipeline "${pipeline}" has no dead record with sequence ${missing.join(', ')}`, { hint: `\`tributary dlq list ${pipeline}\` shows the outstanding ones` })
    }

    const chosen = select(entries, sel)
    if (chosen.length === 0) return summary
    for (const e of chosen) redriveTarget(pipeline, e) // refuse before anything is published
    const epoch = await bumpEpoch(kv)
    await writeIntent(kv, { ...sel, epoch, upTo: Math.max(...chosen.map((e) => e.seq)) })
    await redrive(publisher, pipeline, epoch, chosen, summary, routes)
    await clearIntent(kv)
    summary.epoch = epoch
    return summary
  } finally {
    await publisher.close()
  }
}

function select(entries: DeadRecord[], sel: RedriveSelection): DeadRecord[] {
  const seqs = sel.seqs && sel.seqs.length > 0 ? new Set(sel.seqs) : undefined
  return entries.filter((e) => (sel.stage === undefined || e.stage === sel.stage) && (seqs === undefined || seqs.has(e.seq)))
}

/** Republish (one message per input), wait for every ack, then mark the entries resolved. */
async function redrive(publisher: JetStreamPublisher, pipeline: string, epoch: number, entries: DeadRecord[], summary: RedriveSummary, routes: Map<string, SubjectRoute>): Promise<void> {
  if (entries.length === 0) return
  const firsts = new Map<string, DeadRecord>()
  for (const e of entries) if (!firsts.has(oneInputKey(pipeline, e))) firsts.set(oneInputKey(pipeline, e), e)
  const msgs = [...firsts.values()].map((e) => onPartition(redriveMessage(pipeline, epoch, e), routes))
  await publisher.publishBatch(msgs)
  for (const m of msgs) summary.subjects[m.subject] = (summary.subjects[m.subject] ?? 0) + 1
  summary.republished += msgs.length
  // Only once every republish is acknowledged: the entries leave the list (marked, see resolved.ts).
  await publisher.publishBatch(resolvedMarkers(pipeline, epoch, entries.map((e) => e.seq)))
  summary.redriven += entries.length
}
