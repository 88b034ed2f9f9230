import { TributaryError } from '../errors.js'

/**
 * ClickHouse column type strings from sink configs: validated before they go into a
 * CREATE TABLE (chDB runs `a; b` as two statements, so a type must not smuggle SQL), and
 * normalized so `INT`, `Int32` and `LowCardinality(String)` vs `String` compare as ClickHouse
 * stores them.
 */

/** Validates a type such as `Nullable(String)`, `DateTime64(3, 'UTC')`, `Enum8('a' = 1)`. */
export function validateColumnType(type: unknown, column: string): string {
  const bad = (why: string): never => {
    throw new TributaryError('E_CONFIG', `invalid ClickHouse type ${JSON.stringify(type)} for column "${column}": ${why}`, {
      hint: 'write a ClickHouse type such as `String`, `Nullable(Float64)`, `DateTime64(3)` or `Array(String)`',
    })
  }
  if (typeof type !== 'string' || type.trim() === '') return bad('expected a non-empty string')
  if (type.length > 1000) return bad('too long')
  if (!/^\s*[A-Za-z]/.test(type)) return bad('a type starts with a letter')
  let depth = 0
  let quoted = false
  for (let i = 0; i < type.length; i++) {
    const c = type[i]!
    if (quoted) {
      if (c === '\\') return bad('backslashes are not allowed in quoted names')
      if (c === "'") quoted = false
      continue
    }
    if (c === "'") quoted = true
    else if (c === '(') depth++
    else if (c === ')') {
      if (--depth < 0) return bad('unbalanced parentheses')
    } else if (c === '-' && type[i + 1] === '-') return bad('comments are not allowed')
    else if (!/[A-Za-z0-9_ ,=.:+\-]/.test(c)) return bad(`unexpected character ${JSON.stringify(c)}`)
  }
  if (quoted) return bad('unterminated quote')
  if (depth !== 0) return bad('unbalanced parentheses')
  return type.trim()
}

// SQL-standard spellings ClickHouse accepts (case-insensitively) and what it stores them as.
const ALIASES: Record<string, string> = {
  TEXT: 'String', VARCHAR: 'String', CHAR: 'String', CHARACTER: 'String', NCHAR: 'String', NVARCHAR: 'String',
  VARCHAR2: 'String', CLOB: 'String', BLOB: 'String', TINYTEXT: 'String', MEDIUMTEXT: 'String', LONGTEXT: 'String',
  TINYINT: 'Int8', SMALLINT: 'Int16', INT: 'Int32', INTEGER: 'Int32', MEDIUMINT: 'Int32', BIGINT: 'Int64',
  FLOAT: 'Float32', REAL: 'Float32', DOUBLE: 'Float64',
  BOOL: 'Bool', BOOLEAN: 'Bool',
  DECIMAL: 'Decimal', NUMERIC: 'Decimal', DEC: 'Decimal',
  TIMESTAMP: 'DateTime',
  STRING: 'String', DATE: 'Date', DATETIME: 'DateTime', UUID: 'UUID',
}
// Types whose arguments are types themselves, normalized recursively.
const NESTED = new Set(['Nullable', 'Array', 'Map', 'Tuple'])

function canonicalName(name: string): string {
  return ALIASES[name.toUpperCase()] ?? name
}

/** Splits `a, b(c, d), 'e,f'` at top-level commas. */
function splitArgs(s: string): string[] {
  const out: string[] = []
  let depth = 0
  let quoted = false
  let start = 0
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    if (quoted) {
      if (c === "'") quoted = false
    } else if (c === "'") quoted = true
    else if (c === '(') depth++
    else if (c === ')') depth--
    else if (c === ',' && depth === 0) {
      out.push(s.slice(start, i).trim())
      start = i + 1
    }
  }
  out.push(s.slice(start).trim())
  return out
}

/** The spelling ClickHouse reports in system.columns, as far as it is cheap to know. */
export function normalizeType(type: string): string {
  const t = type.trim()
  const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*(?:\(([\s\S]*)\))?$/.exec(t)
  if (!m) return t.replace(/\s+/g, ' ')
  const name = canonicalName(m[1]!)
  if (m[2] === undefined) return name
  const args = splitArgs(m[2])
  // LowCardinality changes storage, not what a sink writes or reads back.
  if (name === 'LowCardinality' && args.length === 1) return normalizeType(args[0]!)
  // VARCHAR(255) and friends are plain String in ClickHouse.
  if (name === 'String') return 'String'
  if (NESTED.has(name)) {
    const inner = args.map((a) => {
      const named = name === 'Tuple' ? /^([A-Za-z_][A-Za-z0-9_]*)\s+(\S[\s\S]*)$/.exec(a) : null
      return named ? `${named[1]} ${normalizeType(named[2]!)}` : normalizeType(a)
    })
    return `${name}(${inner.join(', ')})`
  }
  return `${name}(${args.map((a) => a.replace(/\s+/g, ' ')).join(', ')})`
}

export function isNullableType(type: string): boolean {
  return normalizeType(type).startsWith('Nullable(')
}
