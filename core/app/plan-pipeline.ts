import { jetstreamManager } from '@nats-io/jetstream'
import { Kvm } from '@nats-io/kv'
import type { NatsConnection } from '@nats-io/nats-core'
import type { JsonValue } from '../plugin-api.js'
import type { PipelineSpec } from '../pipeline/types.js'
import type { PluginRegistry } from '../plugins/types.js'
import { computePlan, type CurrentState, type DesiredState, type Plan } from '../pipeline/plan.js'
import { compileTopology, groupInputs, topologyConsumers } from '../runtime/topology.js'
import { savedPartitionCount } from '../partitions/count.js'
import { stateHeadKey } from '../partitions/names.js'
import { getStream } from '../jetstream/stream.js'
import { stateBucket, streamName } from '../jetstream/names.js'
import { kvKeys } from '../jetstream/kv-keys.js'
import { identifierLiteral, parseTableName } from '../clickhouse/identifiers.js'
import type { Session } from './session.js'

/** Tables the pipeline's ClickHouse sinks write, with the connection each uses. */
function clickhouseSinks(spec: PipelineSpec): { table: string; columns?: Record<string, string>; url?: string; user?: string; password?: string; database?: string }[] {
  return spec.sinks
    .filter((s) => s.use === 'clickhouse')
    .map((s) => s.config as { table: string; columns?: Record<string, string>; url?: string; user?: string; password?: string; database?: string })
}

/** What JetStream holds for the pipeline now (stream, consumers, saved positions), creating nothing. */
export async function readJetStreamState(nc: NatsConnection, spec: PipelineSpec, statefulIds: string[] = []): Promise<CurrentState> {
  const jsm = await jetstreamManager(nc)
  const stream = await getStream(jsm, streamName(spec.name))
  const current: CurrentState = { streamExists: stream !== undefined, streamMessages: stream?.state.messages, consumers: [], positions: {}, tables: {} }
  // A stateful stage's durable is positioned from its saved state at start, whatever the durable says now.
  const heads = statefulHeads(spec, statefulIds)
  current.stateful = Object.fromEntries([...heads].map(([consumer, h]) => [consumer, { stage: h.stage }]))
  if (stream) {
    for await (const c of jsm.consumers.list(streamName(spec.name))) {
      current.consumers.push({ name: c.name, numPending: c.num_pending, ackFloorSeq: c.ack_floor.stream_seq })
    }
  }
  if (await getStream(jsm, `KV_${stateBucket(spec.name)}`)) {
    const kv = await new Kvm(nc).open(stateBucket(spec.name))
    for (const key of await kvKeys(jsm, stateBucket(spec.name), '*.position')) {
      const e = await kv.get(key)
      if (e && e.operation === 'PUT' && e.length > 0) current.positions[key.slice(0, -'.position'.length)] = e.json<JsonValue>()
    }
    current.partitions = {}
    for (const id of statefulIds) {
      const n = await savedPartitionCount(kv, id)
      if (n !== undefined) current.partitions[id] = n
    }
    for (const [consumer, h] of heads) {
      // The head `<stage>._state` (core/runtime/state-snapshot.ts): `seq` is the last input the saved state covers.
      const e = await kv.get(h.key)
      if (!e || e.operation !== 'PUT' || e.length === 0) continue
      const head = e.json<{ seq?: unknown; finished?: unknown }>()
      if (typeof head.seq === 'number') current.stateful[consumer] = { stage: h.stage, seq: head.seq, ...(head.finished === true ? { finished: true } : {}) }
    }
  }
  return current
}

/** Each durable of a stateful stage (one, or one per key partition) and the KV key of its saved state. */
function statefulHeads(spec: PipelineSpec, statefulIds: string[]): Map<string, { stage: string; key: string }> {
  const out = new Map<string, { stage: string; key: string }>()
  const topology = compileTopology(spec, (s) => statefulIds.includes(s.id))
  for (const g of topology.groups) {
    const head = g.transforms[0]
    if (!head || !statefulIds.includes(head.id)) continue
    for (const input of groupInputs(g)) out.set(input.consumer, { stage: head.id, key: stateHeadKey(head.id, input.partition) })
  }
  return out
}

/** Ids of the stateful transforms (their saved partition count is part of the plan). */
export function statefulStageIds(spec: PipelineSpec, registry: PluginRegistry): string[] {
  return spec.transforms.filter((t) => registry.get(t.kind, t.use)?.manifest.stateful === true).map((t) => t.id)
}

/** `validate --plan`: reads the current state (creating nothing) and compares it with the file. */
export async function planPipeline(spec: PipelineSpec, registry: PluginRegistry, session: Session): Promise<Plan> {
  const topology = compileTopology(spec, (s) => registry.get(s.kind, s.use)?.manifest.stateful === true)
  const sinks = clickhouseSinks(spec)
  const desired: DesiredState = { consumers: topologyConsumers(topology), tables: sinks.map(({ table, columns }) => ({ table, columns })) }

  const { nc } = await session.nats(spec.nats)
  const current = await readJetStreamState(nc, spec, statefulStageIds(spec, registry))
  for (const s of sinks) {
    const ch = await session.clickhouse({ url: s.url, user: s.user, password: s.password, database: s.database })
    try {
      const t = parseTableName(s.table)
      const db = t.database ? identifierLiteral(t.database) : 'currentDatabase()'
      const rows = await ch.query<{ name: string; type: string }>(`SELECT name, type FROM system.columns WHERE database = ${db} AND table = ${identifierLiteral(t.table)}`)
      current.tables[s.table] = rows.length ? { exists: true, columns: Object.fromEntries(rows.map((r) => [r.name, r.type])) } : { exists: false }
    } finally {
      await ch.close()
    }
  }
  return computePlan(spec, current, desired)
}
