import { TributaryError } from '../errors.js'

/**
 * SQL text handed to `query`/`command`. The client appends `FORMAT JSON` to a query, so a
 * trailing `;` (as people type in a shell) must go.
 */
export function trimStatement(sql: string): string {
  const s = sql.trim().replace(/;+\s*$/, '').trim()
  if (s === '') throw new TributaryError('E_USAGE', 'the SQL statement is empty', { hint: 'pass a statement, e.g. `SELECT count() FROM events`' })
  return s
}

/**
 * chDB turns `SET` into a session-wide setting, and one embedded session serves every process
 * of a home: a stray `SET insert_deduplication_token = …` would silently drop later inserts.
 */
export function refuseSessionSet(sql: string): void {
  if (/^\s*SET\s/i.test(sql)) {
    throw new TributaryError('E_USAGE', 'SET is not allowed on embedded ClickHouse: the session is shared by every process of this home', {
      hint: 'put the setting on the statement instead, e.g. `SELECT … SETTINGS max_threads = 2`',
    })
  }
}
