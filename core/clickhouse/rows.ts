import type { JsonObject, JsonValue } from '../plugin-api.js'

/**
 * ClickHouse quotes 64-bit (and wider) integers in JSON so no precision is lost; chDB is set
 * to do the same. Records are JSON numbers everywhere else in Tributary, so integers that fit
 * in a double exactly become numbers here; larger ones stay strings rather than silently change.
 * The column types come from the JSON format's `meta`, so a String column holding "42" is never touched.
 */
export interface ColumnMeta {
  name: string
  type: string
}

const WIDE_INT = /^U?Int(64|128|256)$/

type Convert = (v: JsonValue) => JsonValue

function converterFor(type: string): Convert | undefined {
  const t = type.trim()
  if (WIDE_INT.test(t)) return toNumberIfSafe
  const wrapped = /^(Nullable|LowCardinality)\((.*)\)$/.exec(t)
  if (wrapped) {
    const inner = converterFor(wrapped[2]!)
    return inner && ((v) => (v === null ? null : inner(v)))
  }
  const array = /^Array\((.*)\)$/.exec(t)
  if (array) {
    const inner = converterFor(array[1]!)
    return inner && ((v) => (Array.isArray(v) ? v.map(inner) : v))
  }
  return undefined
}

function toNumberIfSafe(v: JsonValue): JsonValue {
  if (typeof v !== 'string' || !/^-?\d+$/.test(v)) return v
  const n = Number(v)
  return Number.isSafeInteger(n) ? n : v
}

/** Converts, in place, the wide-integer columns of `rows`; other columns are untouched. */
export function normalizeRows<T extends JsonObject>(meta: readonly ColumnMeta[], rows: T[]): T[] {
  const converters: [string, Convert][] = []
  for (const col of meta) {
    const c = converterFor(col.type)
    if (c) converters.push([col.name, c])
  }
  if (converters.length === 0) return rows
  for (const row of rows) {
    const r = row as JsonObject
    for (const [name, convert] of converters) {
      const v = r[name]
      if (v !== undefined) r[name] = convert(v)
    }
  }
  return rows
}
