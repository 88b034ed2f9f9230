import type { PipelineSpec } from '../pipeline/types.js'
import { groupInputs, type Topology } from '../runtime/topology.js'
import type { ProbeTarget } from './probe.js'
import type { StageDescription } from './types.js'

/** Every stage in file order, with the consuming group it runs in. */
export function describeStages(spec: PipelineSpec, topology: Topology): StageDescription[] {
  const groupOf = new Map<string, string>()
  for (const g of topology.groups) for (const s of [...g.transforms, ...g.sinks]) groupOf.set(s.id, g.id)
  return [spec.source, ...spec.transforms, ...spec.sinks].map((s) => ({ id: s.id, kind: s.kind, use: s.use, ...(groupOf.has(s.id) ? { group: groupOf.get(s.id)! } : {}) }))
}

/** The durables to poll: one per consuming group, or one per key partition of a split group. */
export function probeTargets(topology: Topology): ProbeTarget[] {
  return topology.groups.flatMap((g) => groupInputs(g).map((i) => ({ stage: g.id, consumer: i.consumer, ...(i.partition ? { partition: i.partition.index } : {}) })))
}
