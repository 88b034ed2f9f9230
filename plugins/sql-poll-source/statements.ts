import { quoteIdentifier, quoteTable, sqlLiteral, type JsonPrimitive } from '../../core/plugin-api.js'

/** What to read, validated: a table (and maybe columns) or a query. */
export interface ReadSpec {
  from: { table: string; columns?: string[] } | { query: string }
  cursorColumn: string
  tieBreak: string[]
}

/** A cursor value as read, with its ClickHouse type (from `toTypeName`) once a row gave it. */
export interface Cursor {
  value: JsonPrimitive
  type?: string
}

/** Extra columns each row carries so the cursor is known whatever `columns` selects; stripped from records. */
export const CURSOR_FIELD = '_trib_cursor'
export const CURSOR_TYPE_FIELD = '_trib_cursor_type'
export const CURSOR_PLACEHOLDER = '{cursor}'

/**
 * The SELECT of one poll: rows whose cursor is above `after` (every non-NULL row when unset),
 * in cursor order (then `tieBreak`), at most `limit`. Identifiers are validated and quoted, the
 * cursor goes in through `sqlLiteral`: nothing from a row or the config reaches the SQL as is,
 * except the user's own `query`.
 */
export function pollStatement(spec: ReadSpec, after: Cursor | undefined, limit: number): string {
  const c = quoteIdentifier(spec.cursorColumn, 'column')
  const where = after === undefined ? `${c} IS NOT NULL` : `${c} > ${literal(after)}`
  return `${select(spec, after)} WHERE ${where} ORDER BY ${orderBy(spec)} LIMIT ${Math.floor(limit)}`
}

/** Every row whose cursor equals `value`: a run of equal cursors longer than a batch is read whole. */
export function tieStatement(spec: ReadSpec, value: Cursor, after: Cursor | undefined): string {
  const c = quoteIdentifier(spec.cursorColumn, 'column')
  return `${select(spec, after)} WHERE ${c} = ${literal(value)} ORDER BY ${orderBy(spec)}`
}

function select(spec: ReadSpec, after: Cursor | undefined): string {
  const c = quoteIdentifier(spec.cursorColumn, 'column')
  const extra = `${c} AS ${CURSOR_FIELD}, toTypeName(${c}) AS ${CURSOR_TYPE_FIELD}`
  if ('table' in spec.from) {
    const cols = spec.from.columns?.map((n) => quoteIdentifier(n, 'column')).join(', ') ?? '*'
    return `SELECT ${cols}, ${extra} FROM ${quoteTable(spec.from.table)}`
  }
  return `SELECT *, ${extra} FROM (${withCursor(spec.from.query, after)})`
}

function orderBy(spec: ReadSpec): string {
  return [spec.cursorColumn, ...spec.tieBreak].map((n) => quoteIdentifier(n, 'column')).join(', ')
}

function literal(cursor: Cursor): string {
  return sqlLiteral(cursor.value, cursor.type)
}

/** The user's query with `{cursor}` replaced by the cursor as a SQL literal. */
function withCursor(query: string, after: Cursor | undefined): string {
  const q = query.trim().replace(/;+\s*$/, '')
  if (!q.includes(CURSOR_PLACEHOLDER)) return q
  if (after === undefined) throw new Error(`the query says ${CURSOR_PLACEHOLDER} but there is no cursor yet: set \`from\`, the value to start after`)
  return q.split(CURSOR_PLACEHOLDER).join(literal(after))
}
