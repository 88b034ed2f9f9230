import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { connect } from '@nats-io/transport-node'
import type { NatsConnection } from '@nats-io/nats-core'
import { startNatsServer } from '../helpers/nats-server.js'
import { makeTempDir } from '../helpers/tmp.js'
import { readDlq } from '../helpers/dlq.js'
import { runPipelineFile } from '../../core/app/run-pipeline.js'
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
})
