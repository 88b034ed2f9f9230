import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { readDlq } from '../helpers/dlq.js'
import { startPipelineEnv, type PipelineEnv } from '../helpers/pipeline-env.js'
import { runPipelineFile } from '../../core/app/run-pipeline.js'

let t: PipelineEnv

beforeAll(async () => {
  t = await startPipelineEnv('bad')
})

afterAll(async () => {
  await t?.close()
})

describe('bad records are set aside with their reason while the rest flows', () => {
  it('malformed JSON, a value that does not fit its column, and an oversized record each land in the DLQ', async () => {
    const lines = Array.from({ length: 4000 }, (_, i) => JSON.stringify({ id: i + 1, qty: i % 50, note: 'ok' }))
    lines[100] = '{"id": 101, "qty": '
    lines[2000] = JSON.stringify({ id: 2001, qty: 'not a number', note: 'wrong type' })
    lines[3000] = JSON.stringify({ id: 3001, qty: 1, note: 'z'.repeat(1_200_000) })
    await writeFile(path.join(t.dir, 'bad.ndjson'), lines.join('\n') + '\n')
    const file = path.join(t.dir, 'bad.yaml')
    await writeFile(file, `name: bad
source: { use: file, config: { path: bad.ndjson } }
sinks: [ { use: clickhouse, config: { table: goods, columns: { id: UInt64, qty: UInt32, note: String }, batch: { rows: 1000, maxWait: 100ms } } } ]
`)
    const summary = await runPipelineFile(file, { home: t.home, env: t.env })
    expect(summary.completed).toBe(true)
    expect(await t.query('SELECT count() AS n, uniqExact(id) AS ids FROM goods')).toEqual([{ n: 3997, ids: 3997 }])
    const dlq = await readDlq(t.nc, 'bad')
    const byStage = Object.fromEntries(dlq.map((d) => [d.headers['Trib-Reason']!.slice(0, 40), d.headers['Trib-Stage']]))
    expect(dlq).toHaveLength(3)
    const reasons = dlq.map((d) => d.headers['Trib-Reason']!)
    expect(reasons.find((r) => r.startsWith('line 101: not valid JSON'))).toBeDefined()
    expect(reasons.find((r) => /exceeds the NATS server's max_payload/.test(r))).toBeDefined()
    const typed = dlq.find((d) => d.headers['Trib-Stage'] === 'clickhouse')
    expect(typed, JSON.stringify(byStage)).toBeDefined()
    expect(typed!.headers['Trib-Reason']).toMatch(/ClickHouse refused the row/)
    expect(typed!.headers['Trib-Reason']).toMatch(/qty/)
    expect(JSON.parse(typed!.data)).toMatchObject({ id: 2001, note: 'wrong type' })
  })

  it('`evolve: add` adds a missing column to an existing table; without it the run is refused before any insert', async () => {
    await writeFile(path.join(t.dir, 'more.ndjson'), `${JSON.stringify({ id: 9001, qty: 3, note: 'x', color: 'red' })}\n`)
    const strict = path.join(t.dir, 'strict.yaml')
    await writeFile(strict, `name: more
source: { use: file, config: { path: more.ndjson } }
sinks: [ { use: clickhouse, config: { table: goods, columns: { id: UInt64, qty: UInt32, note: String, color: String } } } ]
`)
    await expect(runPipelineFile(strict, { home: t.home, env: t.env })).rejects.toThrow(/column "color" is missing[\s\S]*/)
    await writeFile(strict, `name: more
source: { use: file, config: { path: more.ndjson } }
sinks: [ { use: clickhouse, config: { table: goods, evolve: add, columns: { id: UInt64, qty: UInt32, note: String, color: String } } } ]
`)
    const summary = await runPipelineFile(strict, { home: t.home, env: t.env })
    expect(summary.completed).toBe(true)
    expect(await t.query("SELECT id, color FROM goods WHERE color != ''")).toEqual([{ id: 9001, color: 'red' }])
  })
})
