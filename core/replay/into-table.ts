import type { ClickHouse, ClickHouseConnectionOptions } from '../plugin-api.js'
import type { PipelineSpec, StageSpec } from '../pipeline/types.js'
import { TributaryError } from '../errors.js'
import { identifierLiteral, parseTableName, quoteTable } from '../clickhouse/identifiers.js'

export interface IntoTable {
  /** The table the pipeline's ClickHouse sinks write. */
  original: string
  /** The table this replay writes instead, created like the original. */
  into: string
  /** How the sinks reach ClickHouse (their url, user, password, database). */
  connection: ClickHouseConnectionOptions
}

const isClickHouseSink = (s: StageSpec): boolean => s.kind === 'sink' && s.use === 'clickhouse'

/**
 * `--into-table T`: the ClickHouse sinks write T instead of their table; the other sinks are
 * left out, since a backfill must not send records to webhooks, files or NATS a second time.
 * Every ClickHouse sink must write the same table on the same server: T replaces one table.
 */
export function redirectSinks(spec: PipelineSpec, into: string): { spec: PipelineSpec; target: IntoTable; skipped: string[] } {
  parseTableName(into)
  const sinks = spec.sinks.filter(isClickHouseSink)
  if (sinks.length === 0) {
    throw new TributaryError('E_USAGE', `pipeline "${spec.name}" has no clickhouse sink, so --into-table has nothing to redirect`, { hint: 'leave --into-table out to replay into the pipeline’s own sinks' })
  }
  const key = (s: StageSpec): string => JSON.stringify([s.config.table, s.config.url ?? null, s.config.database ?? null, s.config.user ?? null])
  if (new Set(sinks.map(key)).size > 1) {
    throw new TributaryError('E_USAGE', `the clickhouse sinks of pipeline "${spec.name}" write different tables (${sinks.map((s) => `${s.id}: ${String(s.config.table)}`).join(', ')}), and --into-table replaces one`, {
      hint: 'replay without --into-table, or split the pipeline so one table is backfilled at a time',
    })
  }
  const first = sinks[0]!.config
  const target: IntoTable = {
    original: String(first.table),
    into,
    connection: pick(first, ['url', 'user', 'password', 'database']) as ClickHouseConnectionOptions,
  }
  if (sameTable(target.original, into)) {
    throw new TributaryError('E_USAGE', `--into-table names the pipeline’s own table ${into}`, { hint: 'name a new table; add --swap to put it in place of the original when the replay is done' })
  }
  const skipped = spec.sinks.filter((s) => !isClickHouseSink(s)).map((s) => s.id)
  return {
    spec: { ...spec, sinks: sinks.map((s) => ({ ...s, config: { ...s.config, table: into } })) },
    target,
    skipped,
  }
}

function pick(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]))
}

function sameTable(a: string, b: string): boolean {
  const x = parseTableName(a)
  const y = parseTableName(b)
  return x.table === y.table && (x.database ?? '') === (y.database ?? '')
}

async function tableExists(ch: ClickHouse, name: string): Promise<boolean> {
  const t = parseTableName(name)
  const db = t.database === undefined ? 'currentDatabase()' : identifierLiteral(t.database, 'database')
  const rows = await ch.query(`SELECT name FROM system.tables WHERE database = ${db} AND name = ${identifierLiteral(t.table, 'table')}`)
  return rows.length > 0
}

/** Creates the replay's table with the original's columns, engine and settings (`CREATE TABLE … AS …`). */
export async function createIntoTable(ch: ClickHouse, t: IntoTable): Promise<void> {
  if (!(await tableExists(ch, t.original))) {
    throw new TributaryError('E_USAGE', `table ${t.original} does not exist, so there is nothing to create ${t.into} like`, { hint: 'run the pipeline first, or replay without --into-table' })
  }
  if (await tableExists(ch, t.into)) {
    throw new TributaryError('E_USAGE', `table ${t.into} already exists`, { hint: `name a new table, or drop it first: DROP TABLE ${quoteTable(t.into)}` })
  }
  await ch.command(`CREATE TABLE ${quoteTable(t.into)} AS ${quoteTable(t.original)}`)
}
