import { TributaryError } from '../errors.js'

/**
 * Identifiers (databases, tables, columns) are the only names Tributary splices into SQL.
 * They are validated against a strict pattern first, so quoting can never be escaped.
 * Values are never spliced: they go in query parameters, except where a server cannot take
 * them (see `identifierLiteral`).
 */
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/

export interface TableName {
  database?: string
  table: string
}

export function isIdentifier(name: unknown): name is string {
  return typeof name === 'string' && IDENT.test(name)
}

/** Throws E_CONFIG unless `name` is a plain identifier; `what` names it in the message ("column", "table"). */
export function validateIdentifier(name: unknown, what = 'identifier'): string {
  if (isIdentifier(name)) return name
  throw new TributaryError('E_CONFIG', `invalid ClickHouse ${what} name ${JSON.stringify(name)}`, {
    hint: 'use letters, digits and underscores, not starting with a digit (e.g. `events_2024`)',
  })
}

/** Parses `table` or `db.table`, each part validated. */
export function parseTableName(name: unknown): TableName {
  if (typeof name === 'string') {
    const parts = name.split('.')
    if (parts.length === 2 && isIdentifier(parts[0]) && isIdentifier(parts[1])) return { database: parts[0], table: parts[1] }
    if (parts.length === 1 && isIdentifier(parts[0])) return { table: parts[0] }
  }
  throw new TributaryError('E_CONFIG', `invalid ClickHouse table name ${JSON.stringify(name)}`, {
    hint: 'use `table` or `database.table`, each made of letters, digits and underscores',
  })
}

/** Backtick-quotes a validated identifier: `events`. Quoting keeps keywords (`order`) usable as names. */
export function quoteIdentifier(name: string, what?: string): string {
  return `\`${validateIdentifier(name, what)}\``
}

/** `db`.`table` or `table`, validated. */
export function quoteTable(name: string | TableName): string {
  const t = typeof name === 'string' ? parseTableName(name) : name
  const table = quoteIdentifier(t.table, 'table')
  return t.database === undefined ? table : `${quoteIdentifier(t.database, 'database')}.${table}`
}

/** `table` or `db.table` unquoted, validated: for APIs that take a plain name (chDB's rawInsert). */
export function formatTableName(t: TableName): string {
  return t.database === undefined ? t.table : `${t.database}.${t.table}`
}

/**
 * A validated identifier as a SQL string literal, for metadata lookups such as
 * `WHERE table = 'events'`. ClickHouse 18.16 has no query parameters, and these lookups must
 * work there too; an identifier matches [A-Za-z0-9_] only, so the literal needs no escaping
 * and cannot carry anything but a name. Never use this for user values.
 */
export function identifierLiteral(name: string, what?: string): string {
  return `'${validateIdentifier(name, what)}'`
}
