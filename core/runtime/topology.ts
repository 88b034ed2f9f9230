import type { PipelineSpec, StageSpec } from '../pipeline/types.js'
import { consumerName, stageSubject } from '../jetstream/names.js'
import { partitionConsumer, partitionSubject } from '../partitions/names.js'

/** How a stateful stage split into key partitions takes its input (docs/state.md). */
export interface Partitioning {
  count: number
  /** The key's field paths (dotted paths split), from the plugin's `partitionBy`. */
  key: string[][]
}

/** One durable a group reads: the whole input subject, or one partition of it. */
export interface GroupInput {
  consumer: string
  subject: string
  /** Set when the group is split into key partitions. */
  partition?: { index: number; count: number }
}

/**
 * A consuming group: one durable consumer running a chain of transforms and the sinks after
 * them in one process step. Consecutive stateless transforms and their sinks fuse (one hop from
 * source to sinks in the common case); a boundary only before a stateful stage, a sink marked
 * `boundary`, or where the file asks.
 */
export interface StageGroup {
  /** Id of the group's first stage: names its consumer. */
  id: string
  consumer: string
  inputSubject: string
  transforms: StageSpec[]
  sinks: StageSpec[]
  /** Set when a later group reads this group's output. */
  outputSubject?: string
  /** The group's head is a stateful stage split into key partitions: one durable per partition. */
  partitioning?: Partitioning
  /** The group reading this one's output is partitioned: each output goes to its partition's subject. */
  outputPartitioning?: Partitioning
}

export interface Topology {
  sourceSubject: string
  /** The first group is partitioned: the source publishes each record to its partition's subject. */
  sourcePartitioning?: Partitioning
  groups: StageGroup[]
}

/** The durables of a group: one, or one per key partition. */
export function groupInputs(g: StageGroup): GroupInput[] {
  const p = g.partitioning
  if (!p) return [{ consumer: g.consumer, subject: g.inputSubject }]
  return Array.from({ length: p.count }, (_, index) => ({ consumer: partitionConsumer(g.consumer, index), subject: partitionSubject(g.inputSubject, index), partition: { index, count: p.count } }))
}

/** Every durable the pipeline's groups read, in topology order. */
export function topologyConsumers(t: Topology): string[] {
  return t.groups.flatMap((g) => groupInputs(g).map((i) => i.consumer))
}

export function compileTopology(spec: PipelineSpec, isStateful: (s: StageSpec) => boolean = () => false): Topology {
  const sourceSubject = stageSubject(spec.name, spec.source.id)
  const segments: StageSpec[][] = []
  for (const t of spec.transforms) {
    const last = segments[segments.length - 1]
    if (!last || t.boundary || isStateful(t)) segments.push([t])
    else last.push(t)
  }
  const fusedSinks = spec.sinks.filter((s) => !s.boundary)
  const ownSinks = spec.sinks.filter((s) => s.boundary)

  const groups: StageGroup[] = []
  let sourcePartitioning: Partitioning | undefined
  let input = sourceSubject
  segments.forEach((seg, i) => {
    const isLast = i === segments.length - 1
    const head = seg[0]!
    const g: StageGroup = { id: head.id, consumer: consumerName(spec.name, head.id), inputSubject: input, transforms: seg, sinks: isLast ? fusedSinks : [] }
    // Only a stateful head is split (validation allows `partitions` nowhere else).
    if (isStateful(head) && (head.partitions ?? 1) > 1 && head.partitionKey?.length) {
      g.partitioning = { count: head.partitions!, key: head.partitionKey.map((p) => p.split('.')) }
      const producer = groups[groups.length - 1]
      if (producer) producer.outputPartitioning = g.partitioning
      else sourcePartitioning = g.partitioning
    }
    if (!isLast || ownSinks.length > 0 || fusedSinks.length === 0) {
      g.outputSubject = stageSubject(spec.name, seg[seg.length - 1]!.id)
      input = g.outputSubject
    }
    groups.push(g)
  })
  if (segments.length === 0 && fusedSinks.length > 0) {
    const head = fusedSinks[0]!
    groups.push({ id: head.id, consumer: consumerName(spec.name, head.id), inputSubject: input, transforms: [], sinks: fusedSinks })
  }
  for (const s of ownSinks) {
    groups.push({ id: s.id, consumer: consumerName(spec.name, s.id), inputSubject: input, transforms: [], sinks: [s] })
  }
  return { sourceSubject, ...(sourcePartitioning ? { sourcePartitioning } : {}), groups }
}
