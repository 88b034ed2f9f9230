import { jetstreamManager } from '@nats-io/jetstream'
import { Kvm } from '@nats-io/kv'
import type { NatsConnection } from '@nats-io/nats-core'
import type { JsonValue } from '../plugin-api.js'
import type { PipelineSpec } from '../pipeline/types.js'
import type { PluginRegistry } from '../plugins/types.js'
import { computePlan, type CurrentState, type DesiredState, type Plan } from '../pipeline/plan.js'
import { compileTopology } from '../runtime/topology.js'
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
export async function readJetStreamState(nc: NatsConnection, spec: PipelineSpec): Promise<CurrentState> {
  const jsm = await jetstreamManager(nc)
  const stream = await getStream(jsm, streamName(spec.name))
  const current: CurrentState = { streamExists: stream !== undefined, streamMessages: stream?.state.messages, consumers: [], positions: {}, tables: {} }
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
  }
  return current
}

/** `validate --plan`: reads the current state (creating nothing) and compares it with the file. */
export async function planPipeline(spec: PipelineSpec, registry: PluginRegistry, session: Session): Promise<Plan> {
  const topology = compileTopology(spec, (s) => registry.get(s.kind, s.use)?.manifest.stateful === true)
  const sinks = clickhouseSinks(spec)
  const desired: DesiredState = { consumers: topology.groups.map((g) => g.consumer), tables: sinks.map(({ table, columns }) => ({ table, columns })) }

  const { nc } = await session.nats(spec.nats)
  const current = await readJetStreamState(nc, spec)
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
