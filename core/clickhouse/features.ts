import type { ClickHouse } from '../plugin-api.js'
import { identifierLiteral, parseTableName } from './identifiers.js'

/**
 * What this ClickHouse can do, asked once per handle and cached: chDB 26.x and a 2018 server
 * (18.16: no dedup tokens, no dedup window on plain MergeTree, no EXCHANGE TABLES) both run here.
 * Answers come from the server's own tables, never from assumptions.
 */
export interface ClickHouseFeatures {
  version(): Promise<string>
  versionAtLeast(major: number, minor?: number): Promise<boolean>
  /** `insert_deduplication_token` is a known setting. */
  supportsDedupToken(): Promise<boolean>
  /** MergeTree knows `non_replicated_deduplication_window`, so a created table can get one. */
  supportsDedupWindow(): Promise<boolean>
  /** The deduplication window of an existing table (0: none, or the table does not exist). */
  tableDedupWindow(table: string): Promise<number>
  supportsExchangeTables(): Promise<boolean>
}

const cache = new WeakMap<ClickHouse, ClickHouseFeatures>()

export function features(ch: ClickHouse): ClickHouseFeatures {
  let f = cache.get(ch)
  if (!f) {
    f = detect(ch)
    cache.set(ch, f)
  }
  return f
}

/** `26.7.2.1` → [26, 7, 2, 1]; missing parts are 0. */
export function parseVersion(v: string): number[] {
  const parts = v.split('.').map((p) => Number.parseInt(p, 10))
  while (parts.length < 4) parts.push(0)
  return parts.map((n) => (Number.isFinite(n) ? n : 0))
}

function detect(ch: ClickHouse): ClickHouseFeatures {
  // Cache successes only: a failed probe (server briefly down) is asked again next time.
  const once = <T>(fn: () => Promise<T>): (() => Promise<T>) => {
    let p: Promise<T> | undefined
    return () => {
      p ??= fn()
      p.catch(() => (p = undefined))
      return p
    }
  }
  const count = async (sql: string): Promise<number> => Number((await ch.query<{ n: number }>(sql))[0]?.n ?? 0)
  const version = once(() => ch.version())
  const versionAtLeast = async (major: number, minor = 0): Promise<boolean> => {
    const [a = 0, b = 0] = parseVersion(await version())
    return a > major || (a === major && b >= minor)
  }
  const windows = new Map<string, number>()

  return {
    version,
    versionAtLeast,
    supportsDedupToken: once(async () => (await count("SELECT count() AS n FROM system.settings WHERE name = 'insert_deduplication_token'")) > 0),
    supportsDedupWindow: once(
      async () => (await count("SELECT count() AS n FROM system.merge_tree_settings WHERE name = 'non_replicated_deduplication_window'")) > 0,
    ),
    // EXCHANGE came with Atomic databases (20.x); an Ordinary database refuses it even on new servers.
    supportsExchangeTables: once(async () => {
      if (!(await versionAtLeast(21))) return false
      const db = await ch.query<{ engine: string }>('SELECT engine FROM system.databases WHERE name = currentDatabase()')
      return db[0]?.engine !== 'Ordinary'
    }),
    async tableDedupWindow(table: string): Promise<number> {
      const known = windows.get(table)
      if (known !== undefined) return known
      const t = parseTableName(table)
      const db = t.database === undefined ? 'currentDatabase()' : identifierLiteral(t.database, 'database')
      const rows = await ch.query<{ engine: string; create_table_query: string }>(
        `SELECT engine, create_table_query FROM system.tables WHERE database = ${db} AND name = ${identifierLiteral(t.table, 'table')}`,
      )
      const row = rows[0]
      if (!row) return 0
      const window = await dedupWindowOf(ch, row.engine, row.create_table_query)
      windows.set(table, window)
      return window
    },
  }
}

async function dedupWindowOf(ch: ClickHouse, engine: string, createQuery: string): Promise<number> {
  if (!engine.endsWith('MergeTree')) return 0
  const setting = engine.startsWith('Replicated') ? 'replicated_deduplication_window' : 'non_replicated_deduplication_window'
  const own = new RegExp(`\\b${setting}\\s*=\\s*(\\d+)`).exec(createQuery)
  if (own) return Number(own[1])
  // Not set on the table: the server's MergeTree default applies (0 on chDB; absent on 18.16).
  const rows = await ch.query<{ value: string }>(`SELECT value FROM system.merge_tree_settings WHERE name = '${setting}'`)
  return rows[0] ? Number(rows[0].value) || 0 : 0
}
