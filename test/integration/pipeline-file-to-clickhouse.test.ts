import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { readDlq } from '../helpers/dlq.js'
import { startPipelineEnv, type PipelineEnv } from '../helpers/pipeline-env.js'
import { runPipelineFile } from '../../core/app/run-pipeline.js'

// One chDB home for the whole file: chDB allows one data directory per process (FACTS).
let t: PipelineEnv

beforeAll(async () => {
  t = await startPipelineEnv('e2e')
})

afterAll(async () => {
  await t?.close()
})

describe('file → filter → map → ClickHouse (real nats-server, real chDB)', () => {
  it('delivers exactly the records that pass, sends malformed lines to the DLQ with their reason, and resumes without duplicates', async () => {
    const lines: string[] = []
    let expected = 0
    let expectedSum = 0
    for (let i = 1; i <= 5000; i++) {
      const value = (i % 300) + (i % 2 ? 0.25 : 0)
      lines.push(JSON.stringify({ id: i, value, name: `n${i % 5}` }))
      if (value > 100) {
        expected++
        expectedSum += value * 2
      }
    }
    lines.splice(1000, 0, '{"id": broken')
    lines.splice(3000, 0, '[1,2,3]')
    await writeFile(path.join(t.dir, 'in.ndjson'), lines.join('\n') + '\n')
    const file = path.join(t.dir, 'p.yaml')
    await writeFile(file, `name: e2e
source: { use: file, config: { path: in.ndjson, batchSize: 700 } }
transforms:
  - { use: filter, config: { where: "value > 100" } }
  - { use: map, config: { set: { doubled: "value * 2" }, rename: { name: label } } }
sinks:
  - use: clickhouse
    config:
      table: e2e_events
      columns: { id: UInt64, value: Float64, doubled: Float64, label: String }
      orderBy: [id]
      batch: { rows: 1500, maxWait: 200ms }
`)
    const summary = await runPipelineFile(file, { home: t.home, env: t.env })
    expect(summary.completed).toBe(true)
    expect(summary.source.published).toBe(5000)
    expect(summary.source.dead).toBe(2)

    const [row] = await t.query<{ n: number; s: number; labels: number }>('SELECT count() AS n, sum(doubled) AS s, uniqExact(label) AS labels FROM e2e_events')
    expect(row!.n).toBe(expected)
    expect(row!.s).toBeCloseTo(expectedSum, 6)
    expect(row!.labels).toBe(5)

    const dlq = await readDlq(t.nc, 'e2e')
    expect(dlq).toHaveLength(2)
    expect(dlq.map((d) => d.data).sort()).toEqual(['[1,2,3]', '{"id": broken'])
    for (const d of dlq) {
      expect(d.headers['Trib-Stage']).toBe('file')
      expect(d.headers['Trib-Plugin']).toBe('file')
      expect(d.headers['Trib-Reason']).toMatch(/^line \d+: (not valid JSON|a record must be a JSON object)/)
    }

    // A second run resumes from the KV position: nothing is read or inserted twice.
    const again = await runPipelineFile(file, { home: t.home, env: t.env })
    expect(again.completed).toBe(true)
    expect(again.source.published).toBe(0)
    const [row2] = await t.query<{ n: number }>('SELECT count() AS n FROM e2e_events')
    expect(row2!.n).toBe(expected)

    // Appended lines are picked up from the saved position.
    await writeFile(path.join(t.dir, 'in.ndjson'), lines.join('\n') + '\n' + JSON.stringify({ id: 9001, value: 500, name: 'late' }) + '\n')
    const third = await runPipelineFile(file, { home: t.home, env: t.env })
    expect(third.source.published).toBe(1)
    const [row3] = await t.query<{ n: number }>('SELECT count() AS n FROM e2e_events')
    expect(row3!.n).toBe(expected + 1)
  })

  it('refuses a table that does not match the sink columns before inserting anything', async () => {
    const file = path.join(t.dir, 'mismatch.yaml')
    await writeFile(path.join(t.dir, 'one.ndjson'), '{"id":1,"value":1}\n')
    await writeFile(file, `name: mismatch
source: { use: file, config: { path: one.ndjson } }
sinks:
  - use: clickhouse
    config: { table: e2e_events, columns: { id: String, value: Float64 } }
`)
    await expect(runPipelineFile(file, { home: t.home, env: t.env })).rejects.toMatchObject({ code: 'E_SCHEMA_MISMATCH' })
  })
})
