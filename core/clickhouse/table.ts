import { TributaryError } from '../errors.js'
import type { ClickHouse, TableSpec } from '../plugin-api.js'
import { isNullableType, normalizeType, validateColumnType } from './column-types.js'
import { features } from './features.js'
import { identifierLiteral, parseTableName, quoteIdentifier, quoteTable, type TableName } from './identifiers.js'

/**
 * `table` is `table` or `database.table`; `columns` (name → type, as the sink writes them)
 * create the table when it is missing; `orderBy` (column names) is its sorting key, `tuple()`
 * when empty.
 */
export type EnsureTableOptions = TableSpec

/**
 * Makes sure the table exists and matches what the sink writes, before the first insert: a
 * mismatch is one clear error, not a dead-letter flood. Returns the table's insertable columns
 * (name → type, table order) so the sink can project and coerce rows.
 */
export async function ensureTable(ch: ClickHouse, opts: EnsureTableOptions): Promise<Record<string, string>> {
  const name = parseTableName(opts.table)
  const columns = validateColumns(opts.columns)
  let actual = await readColumns(ch, name)
  if (actual === undefined) {
    if (columns === undefined) {
      throw new TributaryError('E_SCHEMA_MISMATCH', `table "${opts.table}" does not exist`, {
        hint: 'add `columns` to the clickhouse sink to create it, or create the table',
      })
    }
    await ch.command(await createTableSql(ch, name, { ...columns, ...opts.internalColumns }, opts))
    actual = await readColumns(ch, name)
    if (actual === undefined) throw new TributaryError('E_CLICKHOUSE', `table "${opts.table}" was created but cannot be found`, { hint: 'check the database name and the user’s rights' })
  }
  if (columns !== undefined && opts.evolve === 'add') {
    // Only additions: a changed type or nullability is still a mismatch the user must decide.
    const missing = Object.entries(columns).filter(([col]) => actual![col] === undefined)
    for (const [col, type] of missing) {
      await ch.command(`ALTER TABLE ${quoteTable(name)} ADD COLUMN ${quoteIdentifier(col)} ${type}`)
    }
    if (missing.length) actual = (await readColumns(ch, name))!
  }
  if (columns !== undefined) compare(opts.table, columns, actual)
  return Object.fromEntries(Object.entries(actual).filter(([, c]) => c.insertable).map(([n, c]) => [n, c.type]))
}

interface ActualColumn {
  type: string
  /** MATERIALIZED and ALIAS columns are computed; an insert cannot set them. */
  insertable: boolean
}

function validateColumns(columns: Record<string, string> | undefined): Record<string, string> | undefined {
  if (columns === undefined) return undefined
  const entries = Object.entries(columns)
  if (entries.length === 0) throw new TributaryError('E_CONFIG', 'the clickhouse sink has an empty `columns` list', { hint: 'list the columns as name: type, or leave `columns` out' })
  for (const [col, type] of entries) {
    quoteIdentifier(col, 'column')
    validateColumnType(type, col)
  }
  return columns
}

async function readColumns(ch: ClickHouse, t: TableName): Promise<Record<string, ActualColumn> | undefined> {
  const db = t.database === undefined ? 'currentDatabase()' : identifierLiteral(t.database, 'database')
  // system.columns lists a table's columns in table order (18.16 has no `position` to sort by).
  const rows = await ch.query<{ name: string; type: string; default_kind: string }>(
    `SELECT name, type, default_kind FROM system.columns WHERE database = ${db} AND table = ${identifierLiteral(t.table, 'table')}`,
  )
  if (rows.length === 0) return undefined
  return Object.fromEntries(rows.map((r) => [r.name, { type: r.type, insertable: r.default_kind !== 'MATERIALIZED' && r.default_kind !== 'ALIAS' }]))
}

async function createTableSql(ch: ClickHouse, t: TableName, columns: Record<string, string>, opts: EnsureTableOptions): Promise<string> {
  const keys = opts.orderBy ?? []
  for (const key of keys) {
    if (!(key in columns)) {
      throw new TributaryError('E_CONFIG', `orderBy names "${key}", which is not among the sink's columns`, { hint: `add "${key}" to \`columns\`, or remove it from orderBy` })
    }
    // Nullable sorting keys are refused by new servers (allow_nullable_key) and slow on all.
    if (isNullableType(columns[key]!)) {
      throw new TributaryError('E_CONFIG', `orderBy column "${key}" is Nullable (${columns[key]})`, { hint: 'sort by non-Nullable columns, or make the column non-Nullable with a default' })
    }
  }
  const window = opts.dedupWindow ?? 0
  if (!Number.isSafeInteger(window) || window < 0) {
    throw new TributaryError('E_CONFIG', `dedupWindow must be a whole number ≥ 0 (got ${String(window)})`, { hint: 'e.g. dedupWindow: 1000 (the number of recent inserts remembered)' })
  }
  const cols = Object.entries(columns).map(([n, type]) => `${quoteIdentifier(n)} ${type.trim()}`)
  const orderBy = keys.length === 0 ? 'tuple()' : `(${keys.map((k) => quoteIdentifier(k)).join(', ')})`
  const settings = window > 0 && (await features(ch).supportsDedupWindow()) ? ` SETTINGS non_replicated_deduplication_window = ${window}` : ''
  // IF NOT EXISTS: another process may create it at the same moment; the comparison below catches a different shape.
  return `CREATE TABLE IF NOT EXISTS ${quoteTable(t)} (${cols.join(', ')}) ENGINE = MergeTree ORDER BY ${orderBy}${settings}`
}

function compare(table: string, want: Record<string, string>, actual: Record<string, ActualColumn>): void {
  const problems: string[] = []
  const fixes: string[] = []
  const q = quoteTable(table)
  for (const [col, type] of Object.entries(want)) {
    const have = actual[col]
    if (have === undefined) {
      problems.push(`column "${col}" is missing from the table (the sink writes ${type})`)
      fixes.push(`ALTER TABLE ${q} ADD COLUMN ${quoteIdentifier(col)} ${type}`)
      continue
    }
    if (!have.insertable) {
      problems.push(`column "${col}" is computed in the table (MATERIALIZED or ALIAS) and cannot be written`)
      continue
    }
    if (normalizeType(type) === normalizeType(have.type)) continue
    const nullability = isNullableType(type) !== isNullableType(have.type) ? (isNullableType(type) ? ' (the sink allows null, the table does not)' : ' (the table allows null, the sink does not)') : ''
    problems.push(`column "${col}": the table has ${have.type}, the sink writes ${type}${nullability}`)
    fixes.push(`ALTER TABLE ${q} MODIFY COLUMN ${quoteIdentifier(col)} ${type}`)
  }
  if (problems.length === 0) return
  const n = problems.length
  throw new TributaryError('E_SCHEMA_MISMATCH', `table "${table}" does not match the sink's columns (${n} ${n === 1 ? 'difference' : 'differences'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
    hint: `change the sink's \`columns\` to match the table${fixes.length > 0 ? `, or alter the table: ${fixes.join('; ')}` : ''} (\`evolve: add\` lets the sink add missing columns itself)`,
  })
}
