import { describe, expect, it } from 'vitest'
import { runQuery } from '../../core/app/run-query.js'
import type { ClickHouse } from '../../core/plugin-api.js'

function fake(): { ch: ClickHouse; calls: string[] } {
  const calls: string[] = []
  const ch = {
    query: async (sql: string) => (calls.push(`query ${sql}`), [{ n: 1 }]),
    command: async (sql: string) => void calls.push(`command ${sql}`),
  } as unknown as ClickHouse
  return { ch, calls }
}

describe('query: statements that return rows vs commands', () => {
  it.each(['SELECT 1', '  select 1', 'WITH x AS (SELECT 1) SELECT * FROM x', 'SHOW TABLES', 'DESCRIBE TABLE t', '(SELECT 1)', 'EXPLAIN SELECT 1'])('%s returns rows', async (sql) => {
    const { ch, calls } = fake()
    expect(await runQuery(ch, sql)).toEqual({ rows: [{ n: 1 }], returnsRows: true })
    expect(calls).toEqual([`query ${sql}`])
  })
  it.each(['CREATE TABLE t (a UInt8) ENGINE = Memory', 'INSERT INTO t VALUES (1)', 'ALTER TABLE t ADD COLUMN b UInt8', 'DROP TABLE t'])('%s runs as a command', async (sql) => {
    const { ch, calls } = fake()
    expect(await runQuery(ch, sql)).toEqual({ rows: [], returnsRows: false })
    expect(calls).toEqual([`command ${sql}`])
  })
})
