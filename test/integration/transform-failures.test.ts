import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { connect } from '@nats-io/transport-node'
import type { NatsConnection } from '@nats-io/nats-core'
import { startNatsServer } from '../helpers/nats-server.js'
import { makeTempDir } from '../helpers/tmp.js'
import { readDlq } from '../helpers/dlq.js'
import { runPipelineFile } from '../../core/app/run-pipeline.js'
import { replayPipelineFile } from '../../core/replay/run-replay.js'
import { Session } from '../../core/app/session.js'

// A plugin that throws on some records: the batch is not lost, the failing records are isolated,
// retried with back-off, and dead-lettered after delivery.maxDeliver while the rest flows.
let nats: Awaited<ReturnType<typeof startNatsServer>>
let tmp: Awaited<ReturnType<typeof makeTempDir>>
let nc: NatsConnection
let home: string

beforeAll(async () => {
  ;[nats, tmp] = await Promise.all([startNatsServer(), makeTempDir('throws')])
  nc = await connect({ servers: nats.url })
  home = path.join(tmp.dir, 'home')
  const dir = path.join(home, 'plugins', 'thrower')
  await mkdir(dir, { recursive: true })
  await writeFile(path.join(dir, 'plugin.json'), JSON.stringify({
    name: 'thrower', version: '1.0.0', kind: 'transform', entry: 'index.js', engine: '>=0.1.0',
    description: 'Throws on records with bad: true (test plugin).', config: { type: 'object', properties: {} },
  }))
  await writeFile(path.join(dir, 'index.js'), `export default { kind: 'transform', open() { return { process(records) {
    return records.map((r) => { if (r.bad) throw new Error('cannot handle record ' + r.id); return { ...r, seen: true } })
  } } } }\n`)
  // Fails the first time it meets a record whose id is a multiple of 100 (per opened stage), then passes it.
  const flaky = path.join(home, 'plugins', 'flaky')
  await mkdir(flaky, { recursive: true })
  await writeFile(path.join(flaky, 'plugin.json'), JSON.stringify({
    name: 'flaky', version: '1.0.0', kind: 'transform', entry: 'index.js', engine: '>=0.1.0',
    description: 'Fails once on every 100th record (test plugin).', config: { type: 'object', properties: {} },
  }))
  await writeFile(path.join(flaky, 'index.js'), `export default { kind: 'transform', open() { const seen = new Set(); return { process(records) {
    return records.map((r) => { if (r.id % 100 === 0 && !seen.has(r.id)) { seen.add(r.id); throw new Error('not yet: ' + r.id) } return r })
  } } } }\n`)
})

afterAll(async () => {
  await nc?.close()
  await nats?.stop()
  await tmp?.remove()
})

describe('a transform that throws on some records', () => {
  it('isolates them: the rest lands once, they reach the DLQ after maxDeliver tries with the reason', async () => {
    const lines = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ id: i + 1, bad: (i + 1) % 250 === 0 }))
    await writeFile(path.join(tmp.dir, 'in.ndjson'), lines.join('\n') + '\n')
    const file = path.join(tmp.dir, 'p.yaml')
    await writeFile(file, `name: throws
source: { use: file, config: { path: in.ndjson } }
transforms: [ { use: thrower } ]
sinks: [ { use: clickhouse, config: { table: survived, columns: { id: UInt64, seen: UInt8 }, batch: { maxWait: 100ms } } } ]
delivery: { maxDeliver: 3, ackWait: 10s }
`)
    const summary = await runPipelineFile(file, { home, env: { ...process.env, NATS_URL: nats.url } })
    expect(summary.completed).toBe(true)
    const s = new Session({ home, env: {} })
    const ch = await s.clickhouse()
    try {
      expect(await ch.query('SELECT count() AS n, uniqExact(id) AS ids, min(seen) AS seen FROM survived')).toEqual([{ n: 2988, ids: 2988, seen: 1 }])
    } finally {
      await ch.close()
      await s.close()
    }
    const dlq = await readDlq(nc, 'throws')
    expect(dlq.map((d) => (JSON.parse(d.data) as { id: number }).id).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => (i + 1) * 250))
    for (const d of dlq) {
      expect(d.headers['Trib-Stage']).toBe('thrower')
      expect(d.headers['Trib-Error-Code']).toBe('E_MAX_DELIVER')
      expect(d.headers['Trib-Tries']).toBe('3')
      expect(d.headers['Trib-Reason']).toMatch(/cannot handle record \d+/)
    }
  })

  it('in a replay (ack policy all, one reader) retries in process: transient failures pass, lasting ones reach the DLQ after maxDeliver', async () => {
    const lines = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ id: i + 1, bad: (i + 1) % 500 === 0 }))
    await writeFile(path.join(tmp.dir, 'flaky.ndjson'), lines.join('\n') + '\n')
    const file = path.join(tmp.dir, 'flaky.yaml')
    await writeFile(file, `name: flaky
source: { use: file, config: { path: flaky.ndjson } }
transforms: [ { use: flaky }, { use: thrower } ]
sinks: [ { use: clickhouse, config: { table: flaky, columns: { id: UInt64, seen: UInt8 }, batch: { maxWait: 100ms } } } ]
delivery: { maxDeliver: 3, ackWait: 10s }
`)
    const env = { ...process.env, NATS_URL: nats.url }
    expect((await runPipelineFile(file, { home, env })).completed).toBe(true)
    const result = await replayPipelineFile(file, { home, env, intoTable: 'flaky_replay' })
    expect(result).toMatchObject({ completed: true, records: 2000 })
    const s = new Session({ home, env: {} })
    const ch = await s.clickhouse()
    try {
      // 20 records failed once in each pass and passed on the retry; the 4 bad ones never did.
      for (const table of ['flaky', 'flaky_replay']) {
        expect(await ch.query(`SELECT count() AS n, uniqExact(id) AS ids FROM ${table}`)).toEqual([{ n: 1996, ids: 1996 }])
      }
    } finally {
      await ch.close()
      await s.close()
    }
    const dlq = await readDlq(nc, 'flaky')
    const replayed = dlq.filter((d) => d.headers['Trib-Epoch'] === String(result.epoch))
    expect(replayed.map((d) => (JSON.parse(d.data) as { id: number }).id).sort((a, b) => a - b)).toEqual([500, 1000, 1500, 2000])
    for (const d of replayed) {
      expect(d.headers['Trib-Error-Code']).toBe('E_MAX_DELIVER')
      expect(d.headers['Trib-Tries']).toBe('3')
    }
  })
})
