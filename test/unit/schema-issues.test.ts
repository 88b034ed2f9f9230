import { describe, expect, it } from 'vitest'
import { compileSchema } from '../../core/schema/ajv.js'
import { ajvIssues, closest } from '../../core/schema/issues.js'
import { formatPath, pointerToPath } from '../../core/config/json-path.js'

/** Validates a copy of `data` and returns the issues as `path: message (suggestion)` lines. */
function check(schema: object, data: unknown, opts: Parameters<typeof ajvIssues>[2] = {}): string[] {
  const copy = structuredClone(data)
  const v = compileSchema(schema)
  if (v(copy)) return []
  return ajvIssues(v.errors, copy, { written: data, ...opts }).map((i) => `${formatPath(i.at)}: ${i.message}${i.suggestion ? ` (${i.suggestion})` : ''}`)
}

const config = {
  type: 'object',
  additionalProperties: false,
  required: ['table'],
  properties: {
    table: { type: 'string' },
    format: { enum: ['ndjson', 'csv', 'lines'] },
    every: { type: 'string', format: 'duration' },
    size: { type: 'string', format: 'bytes' },
    servers: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
    name: { type: 'string', pattern: '^[a-z]+$', 'x-expected': 'lowercase letters' },
    batch: { type: 'object', properties: { rows: { type: 'integer', minimum: 1 } } },
  },
}

describe('ajv errors as sentences', () => {
  it('type errors say what was given', () => {
    expect(check(config, { table: 42 }, { at: ['sinks', 0, 'config'] })).toEqual(['sinks[0].config.table: must be string (got 42)'])
  })

  it('required errors name the property, at the object', () => {
    expect(check(config, {}, { at: ['sinks', 0, 'config'] })).toEqual(['sinks[0].config: missing required property "table"'])
  })

  it('unknown properties are named, with the closest allowed one when it is close', () => {
    // One typo, one issue: the "missing table" that follows from it is not repeated.
    expect(check(config, { tabel: 't' })).toEqual(['tabel: unknown property "tabel" (table)'])
    expect(check(config, { tabel: 't', table: 'x' })).toEqual(['tabel: unknown property "tabel" (table)'])
    expect(check(config, { table: 't', zzzzzz: 1 })).toEqual(['zzzzzz: unknown property "zzzzzz"; allowed: table, format, every, size, servers, name, batch'])
  })

  it('enum misses list the allowed values and suggest the closest', () => {
    expect(check(config, { table: 't', format: 'ndjosn' })).toEqual(['format: must be one of "ndjson", "csv", "lines" (got "ndjosn") (ndjson)'])
    expect(check(config, { table: 't', format: 'parquet' })).toEqual(['format: must be one of "ndjson", "csv", "lines" (got "parquet")'])
  })

  it('formats and patterns say what they expect', () => {
    expect(check(config, { table: 't', every: '5x', size: 'big', name: 'Abc' })).toEqual([
      'every: must be a duration such as 500ms, 30s, 5m, 2h or 7d (got "5x")',
      'size: must be a size such as 512KB, 64MB or 1GB (got "big")',
      'name: must be lowercase letters (got "Abc")',
    ])
  })

  it('anyOf: one merged type error instead of the parent and each branch', () => {
    expect(check(config, { table: 't', servers: 42 })).toEqual(['servers: must be string or array (got 42)'])
  })

  it('anyOf: the branch that matched the shape explains the error', () => {
    expect(check(config, { table: 't', servers: ['a', 7] })).toEqual(['servers[1]: must be string (got 7)'])
  })

  it('drops if/then noise and keeps the then error', () => {
    const s = { type: 'object', if: { properties: { format: { const: 'csv' } }, required: ['format'] }, then: { required: ['delimiter'] } }
    expect(check(s, { format: 'csv' })).toEqual([': missing required property "delimiter"'])
  })

  it('anyOf of required properties reads as "one of"', () => {
    const s = { type: 'object', anyOf: [{ required: ['url'] }, { required: ['path'] }] }
    expect(check(s, {})).toEqual([': missing a required property: one of "url", "path"'])
  })

  it('reports every error, with nested paths', () => {
    expect(check(config, { table: 1, batch: { rows: 0 }, format: 'x' })).toEqual([
      'table: must be string (got 1)',
      'format: must be one of "ndjson", "csv", "lines" (got "x")',
      'batch.rows: must be >= 1 (got 0)',
    ])
  })

  it('quotes the value as written, not as resolved (secrets never appear)', () => {
    const s = { type: 'object', properties: { url: { type: 'string', pattern: '^https?://' } } }
    const resolved = { url: 'hunter2' }
    const v = compileSchema(s)
    expect(v(resolved)).toBe(false)
    const [issue] = ajvIssues(v.errors, resolved, { written: { url: '${env:URL}' } })
    expect(issue!.message).toBe('must be a string matching ^https?:// (got "${env:URL}")')
  })

  it('property name errors point at the key', () => {
    const s = { type: 'object', propertyNames: { pattern: '^[a-z]+$' } }
    expect(check(s, { 'a b': 1 })).toEqual(['["a b"]: the property name "a b" is not allowed: it must match pattern "^[a-z]+$"'])
  })
})

describe('paths and suggestions', () => {
  it('formats paths with brackets for indexes and quotes for odd keys', () => {
    expect(formatPath(['sinks', 0, 'config', 'table'])).toBe('sinks[0].config.table')
    expect(formatPath(['config', 'a b'])).toBe('config["a b"]')
    expect(formatPath(['config', 'geo-ip', 'x.y'])).toBe('config.geo-ip["x.y"]')
    expect(formatPath([])).toBe('')
  })

  it('reads JSON pointers, telling array indexes from numeric keys', () => {
    expect(pointerToPath('/sinks/0/config/a~1b', { sinks: [{ config: {} }] })).toEqual(['sinks', 0, 'config', 'a/b'])
    expect(pointerToPath('/columns/0', { columns: { '0': 'x' } })).toEqual(['columns', '0'])
  })

  it('suggests only close names', () => {
    expect(closest('filtr', ['filter', 'map'])).toBe('filter')
    expect(closest('Filter', ['filter', 'map'])).toBe('filter')
    expect(closest('clickhose', ['clickhouse', 'stdout'])).toBe('clickhouse')
    expect(closest('zzz', ['filter', 'map'])).toBeUndefined()
  })
})
