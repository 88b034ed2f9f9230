import { TributaryError } from '../errors.js'
import type { JsonPrimitive } from '../plugin-api.js'

/**
 * A value as a ClickHouse SQL literal, for the few places where a value must be spliced into
 * SQL: ClickHouse 18.16 has no query parameters. Safety comes from construction, not from
 * trusting the input: a number is written only when it is a finite JS number or a string that
 * is strictly a decimal number; anything else becomes a single-quoted string in which `\`, `'`
 * and every control character are escaped, so the literal can never end early.
 *
 * `type` is the column's ClickHouse type when known (e.g. from `toTypeName`). A numeric column
 * needs a bare number: 18.16 refuses `UInt64 > '5'` (Code 43), and a 64-bit value above 2^53
 * arrives as a string of digits. Other types (DateTime, Date, String, UUID…) compare with a
 * quoted string, which ClickHouse converts to the column's type.
 */
export function sqlLiteral(value: JsonPrimitive, type?: string): string {
  if (value === null) return 'NULL'
  if (typeof value === 'boolean') return value ? '1' : '0'
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw notALiteral(value, 'is not a finite number')
    return String(value)
  }
  if (type !== undefined && isNumericType(type)) {
    if (!NUMBER.test(value)) throw notALiteral(value, `is not a number, and the column is ${type}`)
    return value
  }
  return quoteString(value)
}

/** Strictly a decimal number: optional sign, digits, optional fraction and exponent. */
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/

const NUMERIC_TYPE = /^(?:U?Int(?:8|16|32|64|128|256)|Float(?:32|64)|Decimal(?:32|64|128|256)?\(.*\))$/

/** `Nullable(UInt64)`, `LowCardinality(Float64)`, `Decimal(10, 2)` → true; `DateTime`, `String` → false. */
export function isNumericType(type: string): boolean {
  let t = type.trim()
  for (let m = /^(?:Nullable|LowCardinality)\((.*)\)$/.exec(t); m; m = /^(?:Nullable|LowCardinality)\((.*)\)$/.exec(t)) t = m[1]!.trim()
  return NUMERIC_TYPE.test(t)
}

/** A single-quoted ClickHouse string literal; `\`, `'` and control characters are escaped. */
export function quoteString(s: string): string {
  // eslint-disable-next-line no-control-regex
  return `'${s.replace(/[\\'\u0000-\u001f\u007f]/g, (c) => (c === '\\' || c === "'" ? `\\${c}` : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`))}'`
}

function notALiteral(value: JsonPrimitive, why: string): TributaryError {
  return new TributaryError('E_CONFIG', `cannot use ${JSON.stringify(value)} as a SQL value: it ${why}`, {
    hint: 'check the cursor column and its starting value (`from`)',
  })
}
