import type { KV } from '@nats-io/kv'
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream'
import { TributaryError } from '../errors.js'
import { partitionCountKey, stateHeadKey } from './names.js'

/**
 * `<stage>._partitions` in the pipeline's state bucket: how a stateful stage was split, written
 * before anything is published to its partition subjects. Each partition's saved state holds the
 * keys that hash to it under that count; another count would send a key's records to a
 * partition that does not hold its state. So a changed count is refused (docs/state.md), and
 * `dlq replay` reads the key and subject here to put a dead record back on its partition.
 */
export interface SavedPartitioning {
  v: 1
  count: number
  /** The key's dotted field paths. */
  key: string[]
  /** The stage's input subject (records go to `<subject>.p<i>`). */
  subject: string
}

export async function readPartitioning(kv: KV, stageId: string): Promise<SavedPartitioning | undefined> {
  const e = await kv.get(partitionCountKey(stageId))
  if (!e || e.operation !== 'PUT' || e.length === 0) return undefined
  return e.json<SavedPartitioning>()
}

/** The count a stage ran with so far: from its record, 1 when it saved state unsplit, undefined when it never ran. */
export async function savedPartitionCount(kv: KV, stageId: string): Promise<number | undefined> {
  const p = await readPartitioning(kv, stageId)
  if (p) return p.count
  const head = await kv.get(stateHeadKey(stageId))
  return head && head.operation === 'PUT' && head.length > 0 ? 1 : undefined
}

export function partitionCountChanged(stageId: string, was: number, now: number): TributaryError {
  return new TributaryError('E_STATE', `stage ${stageId} ran with ${was === 1 ? 'no partitions' : `partitions: ${was}`} and is now given ${now === 1 ? 'none' : `partitions: ${now}`}: its saved state is split by the old count, so the change is refused`, {
    hint: `keep \`partitions: ${was}\`, or give the stage a new \`id\` to start its state afresh (it then reads the stream's retained history again)`,
  })
}

/**
 * Before a partitioned stage (or the stage feeding it) runs: refuses a count other than the one
 * the stage ran with, and records the count the first time. A stage with one partition writes
 * nothing (it keeps the layout it always had).
 */
export async function ensurePartitioning(kv: KV, stageId: string, want: Omit<SavedPartitioning, 'v'>): Promise<void> {
  const was = await savedPartitionCount(kv, stageId)
  if (was !== undefined && was !== want.count) throw partitionCountChanged(stageId, was, want.count)
  if (want.count <= 1 || was !== undefined) return
  try {
    await kv.create(partitionCountKey(stageId), JSON.stringify({ v: 1, ...want } satisfies SavedPartitioning))
  } catch (err) {
    const raced = err instanceof JetStreamApiError && (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
    if (!raced) throw err
    // Another process recorded it first: same count, or refused.
    const now = await savedPartitionCount(kv, stageId)
    if (now !== undefined && now !== want.count) throw partitionCountChanged(stageId, now, want.count)
  }
}
