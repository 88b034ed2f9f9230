import { describe, expect, it } from 'vitest'
import { TributaryError } from '../../core/errors.js'
import { identifierLiteral, parseTableName, quoteIdentifier, quoteTable, validateIdentifier } from '../../core/clickhouse/identifiers.js'
import { isNullableType, normalizeType, validateColumnType } from '../../core/clickhouse/column-types.js'
import { normalizeRows } from '../../core/clickhouse/rows.js'
import { cleanClickHouseMessage, clickhouseCodeOf, toClickHouseFailure, ClickHouseFailure } from '../../core/clickhouse/errors.js'
import { refuseSessionSet, trimStatement } from '../../core/clickhouse/statement.js'
import { parseVersion } from '../../core/clickhouse/features.js'
import { loadChdb } from '../../core/clickhouse/embedded.js'

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return err instanceof TributaryError ? err.code : 'not a TributaryError'
  }
  return undefined
}

describe('identifiers', () => {
  it.each(['events', '_x', 'a1_b2', 'Order'])('accepts %s', (name) => {
    expect(validateIdentifier(name)).toBe(name)
    expect(quoteIdentifier(name)).toBe(`\`${name}\``)
  })

  it.each(['', '1abc', 'a-b', 'a b', 'a`b', "a'b", 'a;drop', 'été', 'a.b', null, 42])('refuses %j with E_CONFIG', (name) => {
    expect(codeOf(() => validateIdentifier(name))).toBe('E_CONFIG')
  })

  it('parses and quotes table and db.table', () => {
    expect(parseTableName('events')).toEqual({ table: 'events' })
    expect(parseTableName('analytics.events')).toEqual({ database: 'analytics', table: 'events' })
    expect(quoteTable('events')).toBe('`events`')
    expect(quoteTable('analytics.events')).toBe('`analytics`.`events`')
    for (const bad of ['a.b.c', '.a', 'a.', 'a.`b`', 'a.b;']) expect(codeOf(() => parseTableName(bad))).toBe('E_CONFIG')
  })

  it('makes string literals only of validated identifiers', () => {
    expect(identifierLiteral('events')).toBe("'events'")
    expect(codeOf(() => identifierLiteral("x' OR 1=1 --"))).toBe('E_CONFIG')
  })

  it('says how to fix a bad name', () => {
    try {
      validateIdentifier('my-table', 'table')
    } catch (err) {
      expect((err as TributaryError).message).toContain('table name "my-table"')
      expect((err as TributaryError).hint).toMatch(/letters, digits and underscores/)
    }
  })
})

describe('column types', () => {
  it.each(['String', 'Nullable(Float64)', "DateTime64(3, 'UTC')", "Enum8('a b' = 1, 'c' = -2)", 'Array(Tuple(a String, b UInt8))', 'Decimal(10, 2)', 'Map(String, UInt64)'])(
    'accepts %s',
    (type) => {
      expect(validateColumnType(type, 'c')).toBe(type)
    },
  )

  it.each(['', '1Int', 'String) ENGINE = Memory; DROP TABLE x', 'String; DROP TABLE x', 'Int32 -- c', 'Nullable(String', "Enum8('a)", 'UInt8 /* x */', "Enum8('a\\' = 1)"])(
    'refuses %j',
    (type) => {
      expect(codeOf(() => validateColumnType(type, 'c'))).toBe('E_CONFIG')
    },
  )

  it.each([
    ['INT', 'Int32'],
    ['bigint', 'Int64'],
    ['TEXT', 'String'],
    ['VARCHAR(255)', 'String'],
    ['Nullable(VARCHAR(10))', 'Nullable(String)'],
    ['DOUBLE', 'Float64'],
    ['LowCardinality(String)', 'String'],
    ['Decimal(10,2)', 'Decimal(10, 2)'],
    ['Array( Nullable(INT) )', 'Array(Nullable(Int32))'],
    ["DateTime('UTC')", "DateTime('UTC')"],
    ['Tuple(a INT, b TEXT)', 'Tuple(a Int32, b String)'],
    ['UInt64', 'UInt64'],
  ])('normalizes %s to %s', (given, want) => {
    expect(normalizeType(given)).toBe(want)
  })

  it('tells nullable types apart', () => {
    expect(isNullableType('Nullable(String)')).toBe(true)
    expect(isNullableType('LowCardinality(Nullable(String))')).toBe(true)
    expect(isNullableType('Array(Nullable(String))')).toBe(false)
  })
})

describe('rows', () => {
  it('turns quoted 64-bit integers into numbers when exact, by column type only', () => {
    const meta = [
      { name: 'big', type: 'UInt64' },
      { name: 'small', type: 'Int64' },
      { name: 'n', type: 'Nullable(Int64)' },
      { name: 'arr', type: 'Array(Int64)' },
      { name: 's', type: 'String' },
      { name: 'neg', type: 'Int128' },
    ]
    const rows = normalizeRows(meta, [{ big: '18446744073709551615', small: '5', n: null, arr: ['1', '2'], s: '42', neg: '-7' }])
    expect(rows).toEqual([{ big: '18446744073709551615', small: 5, n: null, arr: [1, 2], s: '42', neg: -7 }])
  })
})

describe('ClickHouse errors', () => {
  it('reads the code and message of 18.16, chDB and new servers', () => {
    const old = new Error("Code: 60, e.displayText() = DB::Exception: Table default.nope doesn't exist., e.what() = DB::Exception\n")
    expect(clickhouseCodeOf(old)).toBe(60)
    expect(cleanClickHouseMessage(old.message)).toBe("Table default.nope doesn't exist.")
    const chdb = Object.assign(new Error('Code: 60. DB::Exception: Table default.nope does not exist. (UNKNOWN_TABLE)'), { clickhouseCode: 60 })
    expect(clickhouseCodeOf(chdb)).toBe(60)
    expect(cleanClickHouseMessage(chdb.message)).toBe('Table default.nope does not exist. (UNKNOWN_TABLE)')
    expect(clickhouseCodeOf(Object.assign(new Error('x'), { code: '62' }))).toBe(62)
  })

  it('maps to E_CLICKHOUSE with a hint, and network failures to unavailable', () => {
    const e = toClickHouseFailure(new Error('Code: 115, e.displayText() = DB::Exception: Unknown setting foo, e.what() = DB::Exception'), 'insert failed')
    expect(e).toBeInstanceOf(ClickHouseFailure)
    expect(e.code).toBe('E_CLICKHOUSE')
    expect(e.message).toBe('insert failed: Unknown setting foo (ClickHouse code 115)')
    expect(e.hint).toMatch(/does not know that setting/)
    const down = toClickHouseFailure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'query failed', 'ClickHouse at http://127.0.0.1:1')
    expect((down as ClickHouseFailure).unavailable).toBe(true)
    expect(down.message).toBe('query failed: cannot reach ClickHouse at http://127.0.0.1:1 (ECONNREFUSED)')
  })
})

describe('statements and versions', () => {
  it('trims trailing semicolons and refuses empty SQL', () => {
    expect(trimStatement('  SELECT 1 ;; \n')).toBe('SELECT 1')
    expect(codeOf(() => trimStatement(' ; '))).toBe('E_USAGE')
  })

  it('refuses session SETs (they would leak into every process of the home)', () => {
    expect(codeOf(() => refuseSessionSet("set insert_deduplication_token = 'x'"))).toBe('E_USAGE')
    expect(codeOf(() => refuseSessionSet('SELECT 1 SETTINGS max_threads = 1'))).toBeUndefined()
  })

  it('parses versions', () => {
    expect(parseVersion('26.7.2.1')).toEqual([26, 7, 2, 1])
    expect(parseVersion('18.16.1')).toEqual([18, 16, 1, 0])
  })
})

describe('embedded ClickHouse without chdb', () => {
  it('says to install chdb or use a server', async () => {
    const err = (await loadChdb('chdb-not-installed-here/connection').catch((e: unknown) => e)) as TributaryError
    expect(err).toBeInstanceOf(TributaryError)
    expect(err.code).toBe('E_CLICKHOUSE')
    expect(err.message).toMatch(/^embedded ClickHouse needs the optional package chdb/)
    expect(err.hint).toBe('npm install chdb, or set a ClickHouse server url / CLICKHOUSE_URL')
  })
})
