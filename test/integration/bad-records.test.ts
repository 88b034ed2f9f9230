import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { connect } from '@nats-io/transport-node'
import type { NatsConnection } from '@nats-io/nats-core'
import { startNatsServer } from '../helpers/nats-server.js'
import { makeTempDir } from '../helpers/tmp.js'
import { readDlq } from '../helpers/dlq.js'
import { runPipelineFile } from '../../core/app/run-pipeline.js'
import { Session } from '../../core/app/session.js'

let nats: Awaited<ReturnType<typeof startNatsServer>>
let tmp: Awaited<ReturnType<typeof makeTempDir>>
let nc: NatsConnection
let home: string
let env: NodeJS.ProcessEnv

beforeAll(async () => {
  ;[nats, tmp] = await Promise.all([startNatsServer(), makeTempDir('bad')])
  nc = await connect({ servers: nats.url })
  home = path.join(tmp.dir, 'home')
  env = { ...process.env, NATS_URL: nats.url }
})

afterAll(async () => {
  await nc?.close()
  await nats?.stop()
  await tmp?.remove()
})

async function sql<T>(q: string): Promise<T[]> {
  const s = new Session({ home, env: {} })
  const ch = await s.clickhouse()
  try {
    return (await ch.query(q)) as T[]
  } finally {
    await ch.close()
    await s.close()
  }
}

describe('bad records are set aside with their reason while the rest flows', () => {
  it('malformed JSON, a value that does not fit its column, and an oversized record each land in the DLQ', async () => {
    const lines = Array.from({ length: 4000 }, (_, i) => JSON.stringify({ id: i + 1, qty: i % 50, note: 'ok' }))
    lines[100] = '{"id": 101, "qty": '
    lines[2000] = JSON.stringify({ id: 2001, qty: 'not a number', note: 'wrong type' })
    lines[3000] = JSON.stringify({ id: 3001, qty: 1, note: 'z'.repeat(1_200_000) })
    await writeFile(path.join(tmp.dir, 'bad.ndjson'), lines.join('\n') + '\n')
    const file = path.join(tmp.dir, 'bad.yaml')
    await writeFile(file, `name: bad
source: { use: file, config: { path: bad.ndjson } }
sinks: [ { use: clickhouse, config: { table: goods, columns: { id: UInt64, qty: UInt32, note: String }, batch: { rows: 1000, maxWait: 100ms } } } ]
`)
    const summary = await runPipelineFile(file, { home, env })
    expect(summary.completed).toBe(true)
    expect(await sql('SELECT count() AS n, uniqExact(id) AS ids FROM goods')).toEqual([{ n: 3997, ids: 3997 }])
    const dlq = await readDlq(nc, 'bad')
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
    await writeFile(path.join(tmp.dir, 'more.ndjson'), `${JSON.stringify({ id: 9001, qty: 3, note: 'x', color: 'red' })}\n`)
    const strict = path.join(tmp.dir, 'strict.yaml')
    await writeFile(strict, `name: more
source: { use: file, config: { path: more.ndjson } }
sinks: [ { use: clickhouse, config: { table: goods, columns: { id: UInt64, qty: UInt32, note: String, color: String } } } ]
`)
    await expect(runPipelineFile(strict, { home, env })).rejects.toThrow(/column "color" is missing[\s\S]*/)
    await writeFile(strict, `name: more
source: { use: file, config: { path: more.ndjson } }
sinks: [ { use: clickhouse, config: { table: goods, evolve: add, columns: { id: UInt64, qty: UInt32, note: String, color: String } } } ]
`)
    const summary = await runPipelineFile(strict, { home, env })
    expect(summary.completed).toBe(true)
    expect(await sql("SELECT id, color FROM goods WHERE color != ''")).toEqual([{ id: 9001, color: 'red' }])
  })
})
