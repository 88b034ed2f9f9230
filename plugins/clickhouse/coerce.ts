import type { JsonObject, JsonValue } from '../../core/plugin-api.js'

type Coerce = (v: JsonValue) => JsonValue

const DATETIME = /^(Nullable\()?DateTime(\(.*\))?\)?$/
// What ClickHouse's basic DateTime parser reads as is: 'YYYY-MM-DD hh:mm:ss' or a date.
const BASIC = /^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?$/

/**
 * DateTime columns take ISO-8601 strings (`2026-11-01T10:00:00Z`, with offsets or millis) the same
 * way on every server: turned into epoch seconds here, since 18.16 has no best-effort parsing.
 * A string that is no date is refused with the column named, before ClickHouse sees it.
 */
function dateTime(column: string): Coerce {
  return (v) => {
    if (typeof v !== 'string' || BASIC.test(v)) return v
    const ms = Date.parse(v)
    if (Number.isNaN(ms)) throw new Error(`column "${column}" (DateTime): ${JSON.stringify(v)} is not a date; use ISO-8601 (2026-11-01T10:00:00Z), 'YYYY-MM-DD hh:mm:ss' or epoch seconds`)
    return Math.floor(ms / 1000)
  }
}

/** Builds the per-row coercion for a table's columns; undefined when no column needs any. */
export function rowCoercer(columns: Record<string, string>): ((row: JsonObject) => JsonObject) | undefined {
  const fns: [string, Coerce][] = Object.entries(columns)
    .filter(([, type]) => DATETIME.test(type))
    .map(([name]) => [name, dateTime(name)])
  if (fns.length === 0) return undefined
  return (row) => {
    let out = row
    for (const [name, fn] of fns) {
      const v = row[name]
      if (v === undefined || v === null) continue
      const c = fn(v)
      if (c !== v) {
        if (out === row) out = { ...row }
        out[name] = c
      }
    }
    return out
  }
}
