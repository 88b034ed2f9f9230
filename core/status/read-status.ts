import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/nats-core'
import { consumerName, streamName } from '../jetstream/names.js'
import { requirePipelineStream } from '../dlq/pipeline-stream.js'
import { parsePartitionConsumer } from '../partitions/names.js'
import { probePipeline, type ProbeTarget } from '../metrics/probe.js'
import { openStatusBucket, readStatusDocs } from './heartbeat.js'
import type { PipelineStatus, RuntimeStatusDoc, RuntimeSummary, StageStatus } from './types.js'

/** A running runtime silent for this many heartbeat periods is taken as gone (killed, host down). */
const MISSED_HEARTBEATS = 3

/** Names of the pipelines that have a stream on this server (`trib.<name>.>`), sorted. */
export async function listPipelines(jsm: JetStreamManager): Promise<string[]> {
  const names: string[] = []
  for await (const s of jsm.streams.list()) {
    const m = /^trib\.([a-z][a-z0-9_-]*)\.>$/.exec(s.config.subjects?.[0] ?? '')
    if (m && s.config.name === streamName(m[1]!)) names.push(m[1]!)
  }
  return names.sort()
}

/**
 * A pipeline's status from what outlives its runtimes: their last status documents in the state
 * bucket (figures, rates, errors, heartbeat) and the server's live view of the stream and
 * durables (lag, DLQ size). Works while `run` runs and after it exited.
 */
export async function readPipelineStatus(nc: NatsConnection, pipeline: string, where: string, now = Date.now()): Promise<PipelineStatus> {
  const jsm = await jetstreamManager(nc)
  await requirePipelineStream(jsm, pipeline, where)
  const kv = await openStatusBucket(jetstream(nc), pipeline)
  const docs = kv ? await readStatusDocs(kv, { jsm, pipeline }) : []
  const runtimes = docs.map((d) => summarize(d, now))
  const live = docs.filter((_, i) => runtimes[i]!.state === 'running' || runtimes[i]!.state === 'draining' || runtimes[i]!.state === 'starting')
  const stages = live.length > 0 ? sumStages(live) : (docs[0]?.stages.map((s) => ({ ...s, inPerS: 0, outPerS: 0 })) ?? [])
  const probe = await probePipeline(jsm, pipeline, await durables(jsm, pipeline))
  const lastError = docs.map((d) => d.lastError).filter((e) => e !== undefined).sort((a, b) => b.at.localeCompare(a.at))[0]
  return {
    pipeline,
    mode: 'run',
    state: live.length > 0 ? 'running' : 'stopped',
    runtimes,
    stages,
    consumers: probe.consumers,
    ...(probe.stream ? { stream: probe.stream } : {}),
    ...(lastError ? { lastError } : {}),
  }
}

/** Every pipeline on the server. */
export async function readAllStatuses(nc: NatsConnection, where: string): Promise<PipelineStatus[]> {
  const jsm = await jetstreamManager(nc)
  const out: PipelineStatus[] = []
  for (const name of await listPipelines(jsm)) out.push(await readPipelineStatus(nc, name, where))
  return out
}

function summarize(d: RuntimeStatusDoc, now: number): RuntimeSummary {
  const silent = now - Date.parse(d.updatedAt) > MISSED_HEARTBEATS * d.intervalMs
  const claimsRunning = d.state === 'running' || d.state === 'draining' || d.state === 'starting'
  return {
    instance: d.instance,
    host: d.host,
    pid: d.pid,
    state: claimsRunning && silent ? 'lost' : d.state,
    startedAt: d.startedAt,
    updatedAt: d.updatedAt,
    ...(d.metricsUrl ? { metricsUrl: d.metricsUrl } : {}),
    ...(d.fleet ? { fleet: d.fleet } : {}),
  }
}

/** Several live runtimes on the same durables: their figures add up, stage by stage. */
function sumStages(docs: RuntimeStatusDoc[]): StageStatus[] {
  const byId = new Map<string, StageStatus>()
  for (const d of docs) {
    for (const s of d.stages) {
      const cur = byId.get(s.id)
      if (!cur) {
        byId.set(s.id, { ...s })
        continue
      }
      cur.in += s.in
      cur.out += s.out
      cur.dead += s.dead
      cur.errors += s.errors
      cur.acked += s.acked
      cur.inPerS += s.inPerS
      cur.outPerS += s.outPerS
      if (s.lastError && (!cur.lastError || s.lastError.at > cur.lastError.at)) cur.lastError = s.lastError
    }
  }
  return [...byId.values()]
}

/** The pipeline's durables (`<name>--<stage>`, `<name>--<stage>--p<i>` for key partitions), found on the server: no pipeline file needed. */
async function durables(jsm: JetStreamManager, pipeline: string): Promise<ProbeTarget[]> {
  const prefix = consumerName(pipeline, '')
  const out: ProbeTarget[] = []
  for await (const c of jsm.consumers.list(streamName(pipeline))) {
    const name = c.config.durable_name
    if (!name?.startsWith(prefix)) continue
    const p = parsePartitionConsumer(name)
    out.push(p ? { stage: p.consumer.slice(prefix.length), consumer: name, partition: p.index } : { stage: name.slice(prefix.length), consumer: name })
  }
  return out.sort((a, b) => a.consumer.localeCompare(b.consumer, 'en', { numeric: true }))
}
