import type { ClickHouse } from '../../core/plugin-api.js'

// Record ids are Tributary's own (`pipeline:stage:epoch:seq[:i][/i]`); anything else is refused
// rather than quoted, so no value ever reaches SQL unchecked (18.16 has no query parameters).
const ID = /^[A-Za-z0-9_:./-]{1,256}$/
const CHUNK = 2000

/** Which of these ids are already in the table (a redelivered batch asks before inserting). */
export async function presentOrigins(ch: ClickHouse, quotedTable: string, quotedColumn: string, ids: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>()
  for (let i = 0; i < ids.length; i += CHUNK) {
    const part = ids.slice(i, i + CHUNK)
    for (const id of part) if (!ID.test(id)) throw new Error(`unexpected record id ${JSON.stringify(id)}`)
    const list = part.map((id) => `'${id}'`).join(',')
    const rows = await ch.query<{ o: string }>(`SELECT DISTINCT ${quotedColumn} AS o FROM ${quotedTable} WHERE ${quotedColumn} IN (${list})`)
    for (const r of rows) found.add(r.o)
  }
  return found
}
