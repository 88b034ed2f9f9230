import type { ClickHouse, InsertOptions, JsonObject } from '../../core/plugin-api.js'

export interface Rejected {
  index: number
  reason: string
}

/** ClickHouse could not read a row (a value does not fit its column): that row is the problem, not the server. */
function isDataError(err: unknown): boolean {
  const e = err as { clickhouseCode?: number; unavailable?: boolean }
  if (e.unavailable) return false
  return e.clickhouseCode !== undefined && [6, 26, 27, 32, 38, 41, 53, 69, 70, 72, 117, 130, 131, 242].includes(e.clickhouseCode)
}

/**
 * Inserts rows; when ClickHouse refuses the batch for its data, splits it in halves until the
 * rows it cannot read are alone, and returns those (they go to the DLQ with ClickHouse's
 * reason, which names the column) while the others are written. `column`: a field added to
 * every row (its values aligned with `rows`), split along with them; `json`: the rows' own
 * texts, likewise.
 */
export async function insertIsolating(
  ch: ClickHouse,
  table: string,
  rows: JsonObject[],
  indexes: number[],
  settingsFor: (part: number[]) => Record<string, string | number>,
  column?: InsertOptions['addColumn'],
  json?: readonly string[],
): Promise<Rejected[]> {
  try {
    await ch.insert(table, rows, { settings: settingsFor(indexes), addColumn: column, json })
    return []
  } catch (err) {
    if (!isDataError(err)) throw err
    if (rows.length === 1) return [{ index: indexes[0]!, reason: `ClickHouse refused the row: ${(err as Error).message}` }]
    const mid = Math.ceil(rows.length / 2)
    const half = (from: number, to?: number): InsertOptions['addColumn'] => column && { name: column.name, values: column.values.slice(from, to) }
    const a = await insertIsolating(ch, table, rows.slice(0, mid), indexes.slice(0, mid), settingsFor, half(0, mid), json?.slice(0, mid))
    const b = await insertIsolating(ch, table, rows.slice(mid), indexes.slice(mid), settingsFor, half(mid), json?.slice(mid))
    return [...a, ...b]
  }
}
