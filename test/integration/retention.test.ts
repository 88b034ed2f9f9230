import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { startNatsServer } from '../helpers/nats-server.js'
import { makeTempDir } from '../helpers/tmp.js'
import { runPipelineFile } from '../../core/app/run-pipeline.js'
import { Session } from '../../core/app/session.js'

let nats: Awaited<ReturnType<typeof startNatsServer>>
let tmp: Awaited<ReturnType<typeof makeTempDir>>

beforeAll(async () => {
  ;[nats, tmp] = await Promise.all([startNatsServer(), makeTempDir('retention')])
})

afterAll(async () => {
  await nats?.stop()
  await tmp?.remove()
})

describe('a bounded stream', () => {
  it('moves more data than its size bound: acknowledged history makes room, nothing unconsumed is dropped', async () => {
    const n = 40_000
    await writeFile(path.join(tmp.dir, 'big.ndjson'), Array.from({ length: n }, (_, i) => JSON.stringify({ id: i + 1, pad: 'p'.repeat(80) })).join('\n') + '\n')
    const file = path.join(tmp.dir, 'p.yaml')
    // ~5 MB of records through a 1 MB stream.
    await writeFile(file, `name: bounded
source: { use: file, config: { path: big.ndjson } }
sinks: [ { use: clickhouse, config: { table: bounded, columns: { id: UInt64 }, batch: { rows: 2000, maxWait: 100ms } } } ]
retention: { maxBytes: 1MB, duplicateWindow: 10s }
`)
    const home = path.join(tmp.dir, 'home')
    const summary = await runPipelineFile(file, { home, env: { ...process.env, NATS_URL: nats.url } })
    expect(summary.completed).toBe(true)
    expect(summary.source.published).toBe(n)
    const s = new Session({ home, env: {} })
    const ch = await s.clickhouse()
    try {
      expect(await ch.query('SELECT count() AS n, uniqExact(id) AS ids FROM bounded')).toEqual([{ n, ids: n }])
    } finally {
      await ch.close()
      await s.close()
    }
  })
})
