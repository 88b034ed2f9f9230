import type { ClickHouse, JsonObject } from '../plugin-api.js'

// Statements that return rows; anything else (CREATE, INSERT … VALUES, ALTER, DROP) runs as a
// command and reports no rows.
const RETURNS_ROWS = /^\s*(?:\(\s*)*(select|with|show|describe|desc|explain|exists)\b/i

export interface QueryResult {
  rows: JsonObject[]
  /** False for a statement that returns no rows. */
  returnsRows: boolean
}

export async function runQuery(ch: ClickHouse, sql: string): Promise<QueryResult> {
  if (RETURNS_ROWS.test(sql)) return { rows: await ch.query(sql), returnsRows: true }
  await ch.command(sql)
  return { rows: [], returnsRows: false }
}
