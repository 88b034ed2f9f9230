import { describe, expect, it } from 'vitest'
import { pollStatement, tieStatement, type ReadSpec } from '../../plugins/sql-poll-source/statements.js'

const table: ReadSpec = { from: { table: 'db.events' }, cursorColumn: 'id', tieBreak: [] }

describe('sql-poll statements', () => {
  it('reads a table from the start, then after the cursor, in cursor order', () => {
    expect(pollStatement(table, undefined, 100)).toBe(
      'SELECT *, `id` AS _trib_cursor, toTypeName(`id`) AS _trib_cursor_type FROM `db`.`events` WHERE `id` IS NOT NULL ORDER BY `id` LIMIT 100',
    )
    expect(pollStatement(table, { value: 42, type: 'UInt64' }, 100)).toContain('WHERE `id` > 42 ORDER BY `id` LIMIT 100')
    expect(pollStatement(table, { value: '18446744073709551615', type: 'UInt64' }, 5)).toContain('WHERE `id` > 18446744073709551615 ')
  })

  it('selects columns, orders ties, and reads a whole tie run', () => {
    const spec: ReadSpec = { from: { table: 'events', columns: ['ts', 'value'] }, cursorColumn: 'ts', tieBreak: ['id'] }
    const after = { value: '2024-01-01 00:00:00', type: 'DateTime' }
    expect(pollStatement(spec, after, 10)).toBe(
      "SELECT `ts`, `value`, `ts` AS _trib_cursor, toTypeName(`ts`) AS _trib_cursor_type FROM `events` WHERE `ts` > '2024-01-01 00:00:00' ORDER BY `ts`, `id` LIMIT 10",
    )
    expect(tieStatement(spec, { value: '2024-01-02 00:00:00', type: 'DateTime' }, after)).toBe(
      "SELECT `ts`, `value`, `ts` AS _trib_cursor, toTypeName(`ts`) AS _trib_cursor_type FROM `events` WHERE `ts` = '2024-01-02 00:00:00' ORDER BY `ts`, `id`",
    )
  })

  it('puts the cursor into a query as a literal, never as raw text', () => {
    const spec: ReadSpec = { from: { query: 'SELECT * FROM t WHERE k > {cursor} AND k2 > {cursor};' }, cursorColumn: 'k', tieBreak: [] }
    expect(pollStatement(spec, { value: "x' OR 1=1 --", type: 'String' }, 3)).toBe(
      "SELECT *, `k` AS _trib_cursor, toTypeName(`k`) AS _trib_cursor_type FROM (SELECT * FROM t WHERE k > 'x\\' OR 1=1 --' AND k2 > 'x\\' OR 1=1 --') WHERE `k` > 'x\\' OR 1=1 --' ORDER BY `k` LIMIT 3",
    )
    expect(() => pollStatement(spec, { value: '1 OR 1=1', type: 'UInt64' }, 3)).toThrow(/not a number/)
    expect(() => pollStatement(spec, undefined, 3)).toThrow(/set `from`/)
    const plain: ReadSpec = { from: { query: 'SELECT a, k FROM t' }, cursorColumn: 'k', tieBreak: [] }
    expect(pollStatement(plain, undefined, 3)).toContain('FROM (SELECT a, k FROM t) WHERE `k` IS NOT NULL')
  })

  it('refuses identifiers that are not plain names', () => {
    expect(() => pollStatement({ ...table, cursorColumn: 'id; DROP TABLE x' }, undefined, 1)).toThrow(/invalid ClickHouse column name/)
    expect(() => pollStatement({ ...table, from: { table: 'a-b' } }, undefined, 1)).toThrow(/invalid ClickHouse table name/)
  })
})
