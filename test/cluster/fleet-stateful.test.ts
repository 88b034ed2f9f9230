import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { NatsConnection } from '@nats-io/nats-core'
import { startNatsServer } from '../helpers/nats-server.js'
import { makeTempDir } from '../helpers/tmp.js'
import { assertBuilt } from '../helpers/cli.js'
import { cli, startWorkerProcess, waitFor, type WorkerProcess } from '../helpers/fleet.js'
import { connectNats } from '../../core/nats/connect.js'
import { readFleetStatus } from '../../core/fleet/status.js'

// A keyed window (a stateful stage) on two workers: it runs whole on one of them under the
// pipeline's `stateful` lease (key partitions across workers are not built yet), and its windows
// equal those of a single-process `run` of the same file.
let nats: Awaited<ReturnType<typeof startNatsServer>>
let tmp: Awaited<ReturnType<typeof makeTempDir>>
let nc: NatsConnection
const workers: WorkerProcess[] = []

const T0 = Date.UTC(2026, 2, 1, 9, 0, 0)

function windowPipeline(name: string): string {
  return `name: ${name}
source: { use: file, config: { path: events.ndjson, batchSize: 300 } }
transforms:
  - use: window
    config: { kind: tumbling, every: 10s, time: event, timeField: ts, lateness: 5s, groupBy: [k], aggregate: { n: count(), total: sum(v) }, startField: start, endField: end, timeFormat: ms }
sinks: [ { use: file, config: { path: ${name}.ndjson } } ]
delivery: { ackWait: 4s }
`
}

type Row = { k: string; start: number; end: number; n: number; total: number }
async function rows(file: string): Promise<Row[]> {
  const text = await readFile(file, 'utf8').catch(() => '')
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Row)
    .map((r) => ({ k: r.k, start: Number(r.start), end: Number(r.end), n: Number(r.n), total: Number(r.total) }))
    .sort((a, b) => a.start - b.start || a.k.localeCompare(b.k))
}

describe('a stateful stage in a fleet', () => {
  beforeAll(async () => {
    assertBuilt()
    ;[nats, tmp] = await Promise.all([startNatsServer(), makeTempDir('fleet-stateful')])
    nc = await connectNats({ servers: [nats.url] })
    // 4000 events over 8 keys, in order, every 250 ms; then one event of key `end` a minute later,
    // which closes every other window (only its own stays open).
    const lines: string[] = []
    for (let i = 0; i < 4000; i++) lines.push(JSON.stringify({ k: `k${(i * 5) % 8}`, ts: T0 + i * 250, v: i % 9 }))
    lines.push(JSON.stringify({ k: 'end', ts: T0 + 4000 * 250 + 60_000, v: 0 }))
    await writeFile(path.join(tmp.dir, 'events.ndjson'), `${lines.join('\n')}\n`)
  })

  afterAll(async () => {
    for (const w of workers) await w.kill9().catch(() => undefined)
    await nc?.close()
    await nats?.stop()
    await tmp?.remove()
  })

  it('a keyed window across two workers: one owner under a lease, windows equal to a single-process run', async () => {
    const env = { ...process.env, NATS_URL: nats.url, TRIBUTARY_HOME: path.join(tmp.dir, 'homes') }
    await writeFile(path.join(tmp.dir, 'single.yaml'), windowPipeline('single'))
    await cli(['run', path.join(tmp.dir, 'single.yaml')], { ...env, TRIBUTARY_HOME: path.join(tmp.dir, 'run-home') })
    const single = await rows(path.join(tmp.dir, 'single.ndjson'))
    // `run` ends the input and emits the open window too; the fleet's input never ends.
    const closed = single.filter((r) => r.k !== 'end')
    expect(closed.length).toBe(800) // 1000 s of events: 100 windows of 10 s × 8 keys

    workers.push(startWorkerProcess('s1', env), startWorkerProcess('s2', env))
    await writeFile(path.join(tmp.dir, 'fleet.yaml'), windowPipeline('fleet'))
    await cli(['pipelines', 'deploy', path.join(tmp.dir, 'fleet.yaml')], env)
    await waitFor('the closed windows', async () => (await rows(path.join(tmp.dir, 'fleet.ndjson'))).length >= closed.length, 120_000)
    expect(await rows(path.join(tmp.dir, 'fleet.ndjson'))).toEqual(closed)

    const s = await readFleetStatus(nc, 'default', 'fleet', 'test')
    const owner = s.deployment!.leases.stateful
    expect(['s1', 's2']).toContain(owner)
    const parts = Object.fromEntries(s.deployment!.workers.map((w) => [w.worker, w.runs.filter((r) => r.startsWith('stateful'))]))
    expect(parts[owner!]).toEqual(['stateful'])
    expect(parts[owner === 's1' ? 's2' : 's1']).toEqual(['stateful (standby)'])
  })
})
