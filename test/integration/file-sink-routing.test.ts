import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { startNatsServer } from '../helpers/nats-server.js'
import { makeTempDir } from '../helpers/tmp.js'
import { runPipelineFile } from '../../core/app/run-pipeline.js'

// In process, NATS only (no ClickHouse): a finite file source ends the run by itself.
let nats: Awaited<ReturnType<typeof startNatsServer>>
let tmp: Awaited<ReturnType<typeof makeTempDir>>
let env: NodeJS.ProcessEnv
let home: string

beforeAll(async () => {
  ;[nats, tmp] = await Promise.all([startNatsServer(), makeTempDir('routing')])
  env = { ...process.env, NATS_URL: nats.url }
  home = path.join(tmp.dir, 'home')
})

afterAll(async () => {
  await nats?.stop()
  await tmp?.remove()
})

/** Every record in `base` and its rotated files `base.1`, `base.2`…, with the file it was in. */
async function readRotated(base: string): Promise<{ files: string[]; records: { id: number; value: number }[] }> {
  const dir = path.dirname(base)
  const name = path.basename(base)
  const files = (await readdir(dir)).filter((f) => f === name || new RegExp(`^${name.replace('.', '\\.')}\\.\\d+$`).test(f))
  const records = []
  for (const f of files) {
    for (const line of (await readFile(path.join(dir, f), 'utf8')).split('\n').filter(Boolean)) records.push(JSON.parse(line) as { id: number; value: number })
  }
  return { files, records }
}

describe('per-sink `where` and the file sink', () => {
  it('delivers exactly each subset to its sink; the rotated file sink loses and repeats nothing', async () => {
    const input = Array.from({ length: 3000 }, (_, i) => ({ id: i + 1, value: (i * 7) % 300, team: i % 3 === 0 ? 'ops' : 'sales' }))
    await writeFile(path.join(tmp.dir, 'in.ndjson'), input.map((r) => JSON.stringify(r)).join('\n') + '\n')
    const file = path.join(tmp.dir, 'route.yaml')
    await writeFile(file, `name: route
source: { use: file, config: { path: in.ndjson, batchSize: 500 } }
sinks:
  - { id: high, use: file, where: "value > 100", config: { path: out/high.ndjson, rotateBytes: 16384, keep: 100, batch: { rows: 200 } } }
  - { id: low, use: file, where: "value <= 100 && team == 'ops'", config: { path: out/low-ops.ndjson, idField: _id } }
`)
    const summary = await runPipelineFile(file, { home, env })
    expect(summary.completed).toBe(true)
    expect(summary.source.published).toBe(3000)

    const high = await readRotated(path.join(tmp.dir, 'out', 'high.ndjson'))
    const expectedHigh = input.filter((r) => r.value > 100).map((r) => r.id)
    expect(high.records.map((r) => r.id).sort((a, b) => a - b)).toEqual(expectedHigh)
    // ~75 KB in 16 KB files: rotated several times, and no file past the limit.
    expect(high.files.length).toBeGreaterThanOrEqual(4)
    for (const f of high.files) expect((await readFile(path.join(tmp.dir, 'out', f))).length).toBeLessThanOrEqual(16384)

    const low = await readRotated(path.join(tmp.dir, 'out', 'low-ops.ndjson'))
    const expectedLow = input.filter((r) => r.value <= 100 && r.team === 'ops').map((r) => r.id)
    expect(low.files).toEqual(['low-ops.ndjson'])
    expect(low.records.map((r) => r.id).sort((a, b) => a - b)).toEqual(expectedLow)
    const ids = (low.records as unknown as { _id: string }[]).map((r) => r._id)
    expect(new Set(ids).size).toBe(expectedLow.length)
    expect(ids.every((id) => /^route:file:\d+:\d+$/.test(id))).toBe(true)
  })

  it('keeps only `keep` rotated files', async () => {
    await writeFile(path.join(tmp.dir, 'keep.ndjson'), Array.from({ length: 2000 }, (_, i) => JSON.stringify({ id: i + 1, pad: 'k'.repeat(40) })).join('\n') + '\n')
    const file = path.join(tmp.dir, 'keep.yaml')
    await writeFile(file, `name: keep
source: { use: file, config: { path: keep.ndjson, batchSize: 100 } }
sinks: [ { use: file, config: { path: kept/out.ndjson, rotateBytes: 8192, keep: 2, batch: { rows: 100 } } } ]
`)
    const summary = await runPipelineFile(file, { home, env })
    expect(summary.completed).toBe(true)
    const { files, records } = await readRotated(path.join(tmp.dir, 'kept', 'out.ndjson'))
    expect(files.sort()).toEqual(['out.ndjson', 'out.ndjson.1', 'out.ndjson.2'])
    // The newest records survive, in order, up to the last one.
    const ids = records.map((r) => r.id).sort((a, b) => a - b)
    expect(ids[ids.length - 1]).toBe(2000)
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => 2001 - ids.length + i))
  })
})
