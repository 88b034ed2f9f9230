import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { jetstreamManager } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/nats-core'
import { startNatsServer } from '../helpers/nats-server.js'
import { clickhouseServerSkipReason, startClickHouseServer } from '../helpers/clickhouse-server.js'
import { makeTempDir } from '../helpers/tmp.js'
import { assertBuilt, runCli } from '../helpers/cli.js'
import { cli, clickhouse, startWorkerProcess, waitFor, type WorkerProcess } from '../helpers/fleet.js'
import { connectNats } from '../../core/nats/connect.js'
import { readFleetStatus } from '../../core/fleet/status.js'
import { getStream } from '../../core/jetstream/stream.js'
import type { ClickHouse } from '../../core/plugin-api.js'
import type { PipelineStatus } from '../../core/status/types.js'

// Keyed windows (stateful stages) on a fleet of two worker processes. Unsplit, the stage runs
// whole on one worker under the pipeline's `stateful` lease; split into key partitions, each
// partition is a unit under a lease of its own and the workers share them. Either way the windows
// equal those of a single-process `run` of the same file — the ones still open when the finite
// input ends included — and a worker killed with -9 loses nothing and duplicates nothing.
let nats: Awaited<ReturnType<typeof startNatsServer>>
let tmp: Awaited<ReturnType<typeof makeTempDir>>
let nc: NatsConnection
let env: NodeJS.ProcessEnv
const workers: WorkerProcess[] = []
const noClickHouse = clickhouseServerSkipReason()
let ch: Awaited<ReturnType<typeof startClickHouseServer>> | undefined
let db: ClickHouse | undefined

const T0 = Date.UTC(2026, 2, 1, 9, 0, 0)
const window = (lateness = '5s'): string => `kind: tumbling, every: 10s, time: event, timeField: ts, lateness: ${lateness}, groupBy: [k], aggregate: { n: count(), total: sum(v) }, startField: start, endField: end, timeFormat: ms`

function filePipeline(name: string): string {
  return `name: ${name}
source: { use: file, config: { path: events.ndjson, batchSize: 300 } }
transforms:
  - use: window
    config: { ${window()} }
sinks: [ { use: file, config: { path: ${name}.ndjson } } ]
delivery: { ackWait: 4s }
`
}

/**
 * Generated events (the same for every rate): key k0..k7, one every 250 ms of event time. With
 * `map`, a stateless stage before the window (on a durable the workers share, so its outputs
 * reach the window out of order across batches): the window then allows an hour of lateness, and
 * closes every window only at the end of the input.
 */
function partitionedPipeline(name: string, o: { count: number; rate: number; partitions?: number; map?: boolean }): string {
  return `name: ${name}
source: { use: generate, config: { template: { k: "'k' + string(i % 8)", ts: "${T0} + i * 250", v: "i % 9" }, count: ${o.count}, rate: ${o.rate}, batchSize: 200 } }
transforms:
${o.map ? '  - { use: map, config: { set: { seen: "1" } } }\n' : ''}  - use: window
    ${o.partitions ? `partitions: ${o.partitions}` : ''}
    config: { ${window(o.map ? '1h' : '5s')} }
sinks:
  - use: clickhouse
    config: { url: "\${env:TEST_CH_URL}", table: ${name}, columns: { k: String, start: Int64, end: Int64, n: UInt64, total: Float64 }, orderBy: [k, start], batch: { rows: 500, maxWait: 200ms } }
delivery: { ackWait: 4s }
`
}

type Row = { k: string; start: number; end: number; n: number; total: number }
const normalize = (rs: Row[]): Row[] =>
  rs.map((r) => ({ k: r.k, start: Number(r.start), end: Number(r.end), n: Number(r.n), total: Number(r.total) })).sort((a, b) => a.start - b.start || a.k.localeCompare(b.k))

async function fileRows(file: string): Promise<Row[]> {
  const text = await readFile(file, 'utf8').catch(() => '')
  return normalize(
    text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Row),
  )
}

async function tableRows(table: string): Promise<Row[]> {
  return normalize(await db!.query<Row>(`SELECT k, start, end, n, total FROM ${table}`).catch(() => []))
}

const status = (name: string): Promise<PipelineStatus> => readFleetStatus(nc, 'default', name, 'the test server')

/** Lease holders of the pipeline's key partitions, by partition (`window.p0` …). */
async function partitionHolders(name: string): Promise<Record<string, string>> {
  const leases = (await status(name)).deployment?.leases ?? {}
  return Object.fromEntries(Object.entries(leases).flatMap(([part, owner]) => (part.startsWith('stateful.window.p') ? [[part.slice('stateful.'.length), owner]] : [])))
}

async function deploy(name: string, text: string): Promise<void> {
  const f = path.join(tmp.dir, `${name}.yaml`)
  await writeFile(f, text)
  await cli(['pipelines', 'deploy', f], env)
}

describe('stateful stages in a fleet', () => {
  beforeAll(async () => {
    assertBuilt()
    ;[nats, tmp, ch] = await Promise.all([startNatsServer(), makeTempDir('fleet-stateful'), noClickHouse ? undefined : startClickHouseServer()])
    nc = await connectNats({ servers: [nats.url] })
    env = { ...process.env, NATS_URL: nats.url, TRIBUTARY_HOME: path.join(tmp.dir, 'homes'), ...(ch ? { TEST_CH_URL: ch.url } : {}) }
    if (ch) db = await clickhouse(ch.url, path.join(tmp.dir, 'test-home'))
    // 4000 events over 8 keys, in order, every 250 ms; then one event of key `end` a minute later,
    // which closes every other window (only its own stays open until the input ends).
    const lines: string[] = []
    for (let i = 0; i < 4000; i++) lines.push(JSON.stringify({ k: `k${(i * 5) % 8}`, ts: T0 + i * 250, v: i % 9 }))
    lines.push(JSON.stringify({ k: 'end', ts: T0 + 4000 * 250 + 60_000, v: 0 }))
    await writeFile(path.join(tmp.dir, 'events.ndjson'), `${lines.join('\n')}\n`)
    workers.push(startWorkerProcess('s1', env), startWorkerProcess('s2', env))
    await waitFor('two workers', async () => JSON.parse((await cli(['workers', 'list', '--json'], env)).stdout).length === 2)
  })

  afterAll(async () => {
    for (const w of workers) await w.kill9().catch(() => undefined)
    await db?.close()
    await nc?.close()
    await Promise.all([nats?.stop(), ch?.stop()])
    await tmp?.remove()
  })

  it('a keyed window unsplit: one owner under a lease, windows equal to a single-process run, the open one at the end of the input included', async () => {
    await writeFile(path.join(tmp.dir, 'single.yaml'), filePipeline('single'))
    await cli(['run', path.join(tmp.dir, 'single.yaml')], { ...env, TRIBUTARY_HOME: path.join(tmp.dir, 'run-home') })
    const single = await fileRows(path.join(tmp.dir, 'single.ndjson'))
    expect(single.length).toBe(801) // 1000 s of events: 100 windows of 10 s × 8 keys, and the `end` window

    await deploy('fleet', filePipeline('fleet'))
    // The `end` window closes only because the source finished and the stage completed: no tick.
    await waitFor('every window, the open one at the end included', async () => (await fileRows(path.join(tmp.dir, 'fleet.ndjson'))).length >= single.length, 120_000)
    expect(await fileRows(path.join(tmp.dir, 'fleet.ndjson'))).toEqual(single)

    const s = await status('fleet')
    const owner = s.deployment!.leases.stateful
    expect(['s1', 's2']).toContain(owner)
    const parts = Object.fromEntries(s.deployment!.workers.map((w) => [w.worker, w.runs.filter((r) => r.startsWith('stateful'))]))
    expect(parts[owner!]).toEqual(['stateful'])
    expect(parts[owner === 's1' ? 's2' : 's1']).toEqual(['stateful (standby)'])
  })

  it.skipIf(noClickHouse !== undefined)('partitions: 4 across two workers, after a stage they share: both hold partitions, and the rows equal a single-process run — all emitted at the end of the input', async () => {
    const N = 6000
    await writeFile(path.join(tmp.dir, 'one.yaml'), partitionedPipeline('one', { count: N, rate: 0, map: true }))
    await cli(['run', path.join(tmp.dir, 'one.yaml')], { ...env, TRIBUTARY_HOME: path.join(tmp.dir, 'run-home') })
    const want = await tableRows('one')
    // 1500 s of events: 150 windows × 8 keys; the last 10 s window of each key is open when the input ends.
    expect(want.length).toBe(1200)

    await deploy('parts', partitionedPipeline('parts', { count: N, rate: 1000, partitions: 4, map: true }))
    const seen = new Map<string, Set<string>>()
    await waitFor(
      'every window in ClickHouse',
      async () => {
        for (const [p, owner] of Object.entries(await partitionHolders('parts'))) seen.set(owner, (seen.get(owner) ?? new Set()).add(p))
        return (await tableRows('parts')).length >= want.length
      },
      180_000,
    )
    expect(await tableRows('parts')).toEqual(want)
    // Both workers held partitions (each at most its fair share, 2, while both were alive).
    expect([...seen.keys()].sort()).toEqual(['s1', 's2'])
    // `pipelines status` shows which worker holds which partition: the leases, and each worker's heartbeat.
    const holders = await waitFor('the heartbeats agree with the leases', async () => {
      const s = await status('parts')
      const h = await partitionHolders('parts')
      const runs = Object.fromEntries(s.deployment!.workers.flatMap((w) => w.runs.filter((r) => r.startsWith('window.p')).map((r) => [r, w.worker])))
      const same = (a: Record<string, string>, b: Record<string, string>): boolean => JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort())
      return same(runs, h) ? h : undefined
    })
    expect(Object.keys(holders).sort()).toEqual(['window.p0', 'window.p1', 'window.p2', 'window.p3'])
    const counts = Object.values(holders).reduce<Record<string, number>>((m, w) => ({ ...m, [w]: (m[w] ?? 0) + 1 }), {})
    expect(counts).toEqual({ s1: 2, s2: 2 })

    // Another partition count on a redeploy is refused: the saved state is split by 4.
    await writeFile(path.join(tmp.dir, 'parts.yaml'), partitionedPipeline('parts', { count: N, rate: 1000, partitions: 2, map: true }))
    const r = await runCli(['pipelines', 'deploy', path.join(tmp.dir, 'parts.yaml')], env)
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/stage window ran with 4 partitions, now 2: refused/)
    expect((await status('parts')).deployment?.revision).toBe(1)
  })

  it.skipIf(noClickHouse !== undefined)('kill -9 of a worker holding partitions: the other takes them over, exact rows', async () => {
    const N = 12_000
    await writeFile(path.join(tmp.dir, 'whole.yaml'), partitionedPipeline('whole', { count: N, rate: 0 }))
    await cli(['run', path.join(tmp.dir, 'whole.yaml')], { ...env, TRIBUTARY_HOME: path.join(tmp.dir, 'run-home') })
    const whole = await tableRows('whole')
    expect(whole.length).toBe(2400)

    await deploy('takeover', partitionedPipeline('takeover', { count: N, rate: 1000, partitions: 4 }))
    const both = await waitFor('both workers hold partitions', async () => {
      const h = await partitionHolders('takeover')
      return new Set(Object.values(h)).size === 2 ? h : undefined
    })
    await waitFor('windows flowing', async () => (await tableRows('takeover')).length >= 400)
    const jsm = await jetstreamManager(nc)
    expect((await getStream(jsm, 'TRIB_TAKEOVER'))!.state.messages).toBeLessThan(N) // still reading
    const victim = workers.find((w) => w.name === Object.values(both)[0])!
    const survivor = workers.find((w) => w !== victim)!
    await victim.kill9()
    await waitFor('the survivor holds every partition', async () => {
      const h = await partitionHolders('takeover')
      return Object.keys(h).length === 4 && Object.values(h).every((o) => o === survivor.name)
    }, 60_000)
    await waitFor('every window in ClickHouse', async () => (await tableRows('takeover')).length >= whole.length, 180_000)
    expect(await tableRows('takeover')).toEqual(whole)
    expect(Number((await db!.query<{ n: number | string }>('SELECT count() AS n FROM takeover'))[0]!.n)).toBe(whole.length)
  })
})
