import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { Kvm } from '@nats-io/kv'
import type { NatsConnection } from '@nats-io/nats-core'
import { TributaryError } from '../errors.js'
import { dlqSubject, stageSubject, stateBucket, streamName } from '../jetstream/names.js'
import { requirePipelineStream } from '../dlq/pipeline-stream.js'
import { bucketKeys } from '../jetstream/kv-keys.js'
import { parsePartitionSubject } from '../partitions/names.js'

export interface TapTarget {
  stage: string
  subject: string
  /** What to subscribe to: the subject, and `<subject>.*` when the next stage is split into key partitions (`.p<i>`). */
  subjects: string[]
  /** Messages the stream holds on that subject now: 0 hints at a fused stage (no JetStream hop). */
  stored: number
  /** Stages whose subjects hold messages: where tapping shows something. */
  known: string[]
}

const STAGE_ID = /^[a-z][a-z0-9_-]*$/

/**
 * What `tap PIPELINE [STAGE]` listens to: the stage's output subject, or without STAGE the
 * source's, found from the stream alone (no pipeline file): the stage that keeps a source
 * position in the pipeline's KV bucket, else the only data subject of the stream.
 */
export async function resolveTapTarget(nc: NatsConnection, pipeline: string, stage: string | undefined, where: string): Promise<TapTarget> {
  const jsm = await jetstreamManager(nc)
  await requirePipelineStream(jsm, pipeline, where)
  const info = await jsm.streams.info(streamName(pipeline), { subjects_filter: `trib.${pipeline}.>` })
  // A stage's output split into key partitions is stored on `<subject>.p<i>`: counted as the stage's.
  const counts: Record<string, number> = {}
  const partitioned = new Set<string>()
  for (const [s, n] of Object.entries(info.state.subjects ?? {})) {
    if (s.startsWith(`${dlqSubject(pipeline)}.`)) continue
    const p = parsePartitionSubject(s)
    const subject = p && p.subject.startsWith(`trib.${pipeline}.`) && STAGE_ID.test(p.subject.slice(`trib.${pipeline}.`.length)) ? p.subject : s
    if (subject !== s) partitioned.add(subject)
    counts[subject] = (counts[subject] ?? 0) + n
  }
  const dataStages = Object.keys(counts).filter((s) => s !== dlqSubject(pipeline)).map((s) => s.slice(`trib.${pipeline}.`.length))
  const at = (id: string): TapTarget => {
    const subject = id === 'dlq' ? dlqSubject(pipeline) : stageSubject(pipeline, id)
    return { stage: id, subject, subjects: partitioned.has(subject) ? [subject, `${subject}.*`] : [subject], stored: counts[subject] ?? 0, known: dataStages }
  }
  if (stage !== undefined) {
    if (!STAGE_ID.test(stage)) throw new TributaryError('E_USAGE', `"${stage}" is not a stage id`, { hint: stagesHint(pipeline, dataStages) })
    return at(stage)
  }
  const sources = await sourceStages(nc, pipeline)
  if (sources.length === 1) return at(sources[0]!)
  if (dataStages.length === 1) return at(dataStages[0]!)
  throw new TributaryError('E_USAGE', `cannot tell which stage of pipeline "${pipeline}" is its source`, { hint: stagesHint(pipeline, dataStages) })
}

function stagesHint(pipeline: string, stages: string[]): string {
  return stages.length > 0 ? `name the stage: \`tributary tap ${pipeline} <stage>\`, one of ${stages.join(', ')}` : `name the stage: \`tributary tap ${pipeline} <stage>\` (its id in the pipeline file)`
}

/**
 * Stages with a saved source position (`<stage>.position` in the state bucket), listed by one
 * stream-info request: `kv.keys()` can hang on a bucket runtimes write every second (core/jetstream/kv-keys.ts).
 */
async function sourceStages(nc: NatsConnection, pipeline: string): Promise<string[]> {
  try {
    const kv = await new Kvm(jetstream(nc)).open(stateBucket(pipeline))
    return (await bucketKeys(kv, '*.position', { live: true })).map((k) => k.slice(0, -'.position'.length))
  } catch {
    // No bucket yet (or no rights on it): fall back on the stream's subjects.
    return []
  }
}
