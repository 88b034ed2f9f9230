import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { startNatsServer } from '../helpers/nats-server.js'
import { startClickHouseServer } from '../helpers/clickhouse-server.js'
import { makeTempDir } from '../helpers/tmp.js'
import { runPipelineFile } from '../../core/app/run-pipeline.js'
import { Session } from '../../core/app/session.js'
import { features } from '../../core/clickhouse/features.js'

// Server mode against Debian's clickhouse-server 18.16 (old: no dedup tokens, no query
// parameters): the same pipeline, with the sink's `url`, and `query` through CLICKHOUSE_URL.
let nats: Awaited<ReturnType<typeof startNatsServer>>
let ch: Awaited<ReturnType<typeof startClickHouseServer>>
let tmp: Awaited<ReturnType<typeof makeTempDir>>

beforeAll(async () => {
  ;[nats, ch, tmp] = await Promise.all([startNatsServer(), startClickHouseServer(), makeTempDir('server-mode')])
})

afterAll(async () => {
  await Promise.all([nats?.stop(), ch?.stop()])
  await tmp?.remove()
})

describe('pipeline into a ClickHouse server (18.16)', () => {
  it('creates the table, inserts exactly the filtered records, and answers queries through CLICKHOUSE_URL', async () => {
    const lines = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ id: i + 1, value: i % 250, tag: `t${i % 3}` }))
    await writeFile(path.join(tmp.dir, 'in.ndjson'), lines.join('\n') + '\n')
    const file = path.join(tmp.dir, 'server.yaml')
    await writeFile(file, `name: servermode
source: { use: file, config: { path: in.ndjson } }
transforms: [ { use: filter, config: { where: "value > 100" } } ]
sinks:
  - use: clickhouse
    config:
      url: \${env:TEST_CH_URL}
      table: server_events
      columns: { id: UInt64, value: Float64, tag: String }
      orderBy: [id]
`)
    const env = { ...process.env, NATS_URL: nats.url, TEST_CH_URL: ch.url }
    const summary = await runPipelineFile(file, { home: path.join(tmp.dir, 'home'), env })
    expect(summary.completed).toBe(true)

    const session = new Session({ home: path.join(tmp.dir, 'home'), env: { CLICKHOUSE_URL: ch.url } })
    const conn = await session.clickhouse()
    try {
      expect(conn.mode).toBe('server')
      const f = features(conn)
      expect(await f.version()).toMatch(/^18\.16\./)
      expect(await f.supportsDedupToken()).toBe(false)
      const rows = await conn.query<{ n: number; tags: number }>('SELECT count() AS n, uniqExact(tag) AS tags FROM server_events')
      expect(rows).toEqual([{ n: lines.filter((l) => (JSON.parse(l) as { value: number }).value > 100).length, tags: 3 }])
    } finally {
      await conn.close()
      await session.close()
    }
  })

  it('coerces JSON values predictably on 18.16: ISO dates, missing Nullable, quoted numbers; a non-date goes to the DLQ naming the column', async () => {
    const rows = [
      { id: 1, ts: '2026-11-01T10:00:00Z', qty: '42', note: null },
      { id: 2, ts: '2026-11-01 11:00:00', qty: 7 },
      { id: 3, ts: 1793527200, qty: 1, note: 'x' },
      { id: 4, ts: 'not a date', qty: 1 },
    ]
    await writeFile(path.join(tmp.dir, 'typed.ndjson'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n')
    const file = path.join(tmp.dir, 'typed.yaml')
    await writeFile(file, `name: typed
source: { use: file, config: { path: typed.ndjson } }
sinks:
  - use: clickhouse
    config: { url: "${ch.url}", table: typed, columns: { id: UInt64, ts: DateTime, qty: UInt32, note: Nullable(String) }, orderBy: [id] }
`)
    const env = { ...process.env, NATS_URL: nats.url }
    const summary = await runPipelineFile(file, { home: path.join(tmp.dir, 'home'), env })
    expect(summary.groups[0]!.stats.dead).toBe(1)
    const session = new Session({ home: path.join(tmp.dir, 'home'), env: { CLICKHOUSE_URL: ch.url } })
    const conn = await session.clickhouse()
    try {
      expect(await conn.query("SELECT id, toUnixTimestamp(ts) AS ts, qty, note FROM typed ORDER BY id")).toEqual([
        { id: 1, ts: 1793527200, qty: 42, note: null },
        { id: 2, ts: expect.any(Number), qty: 7, note: null },
        { id: 3, ts: 1793527200, qty: 1, note: 'x' },
      ])
    } finally {
      await conn.close()
      await session.close()
    }
  })
})
