import type { PipelineSpec, StageSpec } from '../pipeline/types.js'
import { consumerName, stageSubject } from '../jetstream/names.js'

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
}

export interface Topology {
  sourceSubject: string
  groups: StageGroup[]
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
  let input = sourceSubject
  segments.forEach((seg, i) => {
    const isLast = i === segments.length - 1
    const head = seg[0]!
    const g: StageGroup = { id: head.id, consumer: consumerName(spec.name, head.id), inputSubject: input, transforms: seg, sinks: isLast ? fusedSinks : [] }
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
  return { sourceSubject, groups }
}
