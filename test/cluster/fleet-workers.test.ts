import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { jetstreamManager } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/nats-core'
import { startNatsServer } from '../helpers/nats-server.js'
import { clickhouseServerSkipReason, startClickHouseServer } from '../helpers/clickhouse-server.js'
import { makeTempDir } from '../helpers/tmp.js'
import { assertBuilt, runCli } from '../helpers/cli.js'
import { cli, clickhouse, counts, startWorkerProcess, waitFor, waitForRows, workByWorker, type WorkerProcess } from '../helpers/fleet.js'
import { connectNats } from '../../core/nats/connect.js'
import { readFleetStatus } from '../../core/fleet/status.js'
import { getStream } from '../../core/jetstream/stream.js'
import { getConsumer } from '../../core/jetstream/consumer.js'
import type { ClickHouse } from '../../core/plugin-api.js'
import type { PipelineStatus } from '../../core/status/types.js'

// A fleet of two worker processes (each with its own home, as on two machines) on one nats-server,
// writing into ClickHouse 18.16 (server mode: origin column, no dedup tokens).
let nats: Awaited<ReturnType<typeof startNatsServer>>
let ch: Awaited<ReturnType<typeof startClickHouseServer>>
let tmp: Awaited<ReturnType<typeof makeTempDir>>
let nc: NatsConnection
let db: ClickHouse
let env: NodeJS.ProcessEnv
const workers: WorkerProcess[] = []

function pipeline(name: string, o: { count: number; rate: number; rev?: number }): string {
  return `name: ${name}
source: { use: generate, config: { template: { id: "i" }, count: ${o.count}, rate: ${o.rate}, batchSize: 250 } }
transforms: [ { use: map, config: { set: { rev: "${o.rev ?? 1}" } } } ]
sinks:
  - use: clickhouse
    config: { url: "\${env:TEST_CH_URL}", table: ${name}, columns: { id: UInt64, rev: UInt8 }, orderBy: [id], batch: { rows: 1000, maxWait: 200ms } }
delivery: { ackWait: 4s }
`
}

async function deploy(name: string, text: string, file = `${name}.yaml`): Promise<string> {
  const f = path.join(tmp.dir, file)
  await writeFile(f, text)
  await cli(['pipelines', 'deploy', f], env)
  return f
}

const status = (name: string): Promise<PipelineStatus> => readFleetStatus(nc, 'default', name, 'the test server')

describe.skipIf(clickhouseServerSkipReason() !== undefined)('a fleet of workers on one nats-server', () => {
  beforeAll(async () => {
    assertBuilt()
    ;[nats, ch, tmp] = await Promise.all([startNatsServer(), startClickHouseServer(), makeTempDir('fleet')])
    env = { ...process.env, NATS_URL: nats.url, TRIBUTARY_HOME: path.join(tmp.dir, 'homes'), TEST_CH_URL: ch.url }
    nc = await connectNats({ servers: [nats.url] })
    db = await clickhouse(ch.url, path.join(tmp.dir, 'test-home'))
    workers.push(startWorkerProcess('w1', env), startWorkerProcess('w2', env))
    await waitFor('two workers', async () => JSON.parse((await cli(['workers', 'list', '--json'], env)).stdout).length === 2)
  })

  afterAll(async () => {
    for (const w of workers) await w.kill9().catch(() => undefined)
    await db?.close()
    await nc?.close()
    await Promise.all([nats?.stop(), ch?.stop()])
    await tmp?.remove()
  })

  it('refuses a pipeline that would give the workers one embedded ClickHouse', async () => {
    const f = path.join(tmp.dir, 'chdb.yaml')
    await writeFile(f, pipeline('chdb', { count: 10, rate: 0 }).replace('url: "${env:TEST_CH_URL}", ', ''))
    const r = await runCli(['pipelines', 'deploy', f], env)
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/embedded ClickHouse \(chDB\)/)
    expect(r.stderr).toMatch(/ClickHouse in a fleet is a server: set `url`/)
    expect(JSON.parse((await cli(['pipelines', 'list', '--json'], env)).stdout)).toEqual([])
  })

  it('two workers share a pipeline: every record once in ClickHouse, and both did work', async () => {
    const N = 30_000
    await deploy('shared', pipeline('shared', { count: N, rate: 6000 }))
    const list = JSON.parse((await cli(['pipelines', 'list', '--json'], env)).stdout) as { name: string; revision: number; state: string }[]
    expect(list).toMatchObject([{ name: 'shared', revision: 1, state: 'running' }])
    await waitForRows(db, 'shared', N)
    expect(await counts(db, 'shared')).toEqual({ n: N, ids: N })
    const work = await waitFor('both workers reported', async () => {
      const w = await workByWorker(nc, 'shared', 'map')
      return w.w1 !== undefined && w.w2 !== undefined && w.w1 + w.w2 >= N ? w : undefined
    })
    expect(work.w1).toBeGreaterThan(0)
    expect(work.w2).toBeGreaterThan(0)
    const s = await status('shared')
    expect(s.mode).toBe('deployed')
    expect(s.state).toBe('running')
    expect(s.deployment?.workers.map((w) => w.worker).sort()).toEqual(['w1', 'w2'])
    // One worker runs the generator (a source that must not run twice), the other stands by.
    const runs = s.deployment!.workers.map((w) => w.runs.join(',')).sort()
    expect(runs).toEqual(['groups,source', 'groups,source (standby)'].sort())
    expect(['w1', 'w2']).toContain(s.deployment!.leases.source)
    const json = JSON.parse((await cli(['pipelines', 'status', 'shared', '--json'], env)).stdout) as PipelineStatus
    expect(json.pipeline).toBe('shared')
    expect(json.deployment?.revision).toBe(1)
  })

  it('a new revision deployed and rolled back while data flows: every record once, written by each revision', async () => {
    // A generator that outlasts the test: data keeps flowing through both switches, whatever the
    // machine's speed; `stop` ends it, and the accounting below is exact.
    const file = await deploy('revs', pipeline('revs', { count: 10_000_000, rate: 2000 }))
    try {
      await rollForwardAndBack(file)
    } finally {
      // Whatever happened, this generator must not outlive the test.
      await runCli(['pipelines', 'stop', 'revs', '--no-wait'], env)
    }
  })

  async function rollForwardAndBack(file: string): Promise<void> {
    await waitFor('rows of revision 1', async () => (await counts(db, 'revs').catch(() => ({ n: 0 }))).n >= 3000)
    await writeFile(file, pipeline('revs', { count: 10_000_000, rate: 2000, rev: 2 }))
    const d2 = JSON.parse((await cli(['pipelines', 'deploy', file, '--json'], env)).stdout) as { revision: number; changes: { action: string; name: string }[] }
    expect(d2.revision).toBe(2)
    expect(d2.changes).toContainEqual(expect.objectContaining({ action: 'change', name: 'map' }))
    await waitFor('rows of revision 2', async () => (await counts(db, 'revs', 'rev = 2')).n > 0)
    const back = JSON.parse((await cli(['pipelines', 'deploy', 'revs', '--revision', '1', '--json'], env)).stdout) as { revision: number; rollbackOf: number }
    expect(back).toMatchObject({ revision: 3, rollbackOf: 1 })
    const lastOfRev2 = async (): Promise<number> => Number((await db.query<{ m: number | string }>('SELECT max(id) AS m FROM revs WHERE rev = 2'))[0]!.m)
    await waitFor('rows of the rolled-back revision after those of revision 2', async () => (await counts(db, 'revs', `rev = 1 AND id > ${await lastOfRev2()}`)).n >= 2000)
    await cli(['pipelines', 'stop', 'revs'], env)

    // Drained: what the stream delivered is exactly ids 0..delivered-1 in ClickHouse, each once.
    const jsm = await jetstreamManager(nc)
    const published = (await getStream(jsm, 'TRIB_REVS'))!.state.messages
    const consumer = (await getConsumer(jsm, 'TRIB_REVS', 'revs--map'))!
    expect(consumer.num_ack_pending).toBe(0)
    const delivered = published - consumer.num_pending
    expect(await counts(db, 'revs')).toEqual({ n: delivered, ids: delivered })
    expect(Number((await db.query<{ m: number | string }>('SELECT max(id) AS m FROM revs'))[0]!.m)).toBe(delivered - 1)
    const history = JSON.parse((await cli(['pipelines', 'history', 'revs', '--json'], env)).stdout) as { revision: number; current: boolean; rollbackOf?: number }[]
    expect(history.map((h) => [h.revision, h.current, h.rollbackOf ?? null])).toEqual([
      [1, false, null],
      [2, false, null],
      [3, true, 1],
    ])
  }

  it('stop drains, start resumes, remove --purge cleans up', async () => {
    const N = 20_000
    await deploy('lifecycle', pipeline('lifecycle', { count: N, rate: 2000 }))
    await waitFor('rows flowing', async () => (await counts(db, 'lifecycle').catch(() => ({ n: 0 }))).n >= 2000)
    const stopped = JSON.parse((await cli(['pipelines', 'stop', 'lifecycle', '--json'], env)).stdout) as { state: string; drained: boolean }
    expect(stopped).toMatchObject({ state: 'stopped', drained: true })
    // Drained: nothing fetched is left unacknowledged, and ClickHouse holds exactly what was acknowledged.
    const jsm = await jetstreamManager(nc)
    const consumer = (await getConsumer(jsm, 'TRIB_LIFECYCLE', 'lifecycle--map'))!
    expect(consumer.num_ack_pending).toBe(0)
    const atStop = await counts(db, 'lifecycle')
    expect(atStop.n).toBe(consumer.ack_floor.stream_seq)
    expect(atStop.ids).toBe(atStop.n)
    expect(atStop.n).toBeLessThan(N)
    const s = await status('lifecycle')
    expect(s.state).toBe('stopped')
    expect(s.deployment?.workers).toEqual([])
    expect(s.deployment?.leases).toEqual({})
    // Still stopped later: the stream does not grow, nobody reads.
    const published = (await getStream(jsm, 'TRIB_LIFECYCLE'))!.state.messages
    expect((await status('lifecycle')).state).toBe('stopped')
    expect((await getStream(jsm, 'TRIB_LIFECYCLE'))!.state.messages).toBe(published)

    await cli(['pipelines', 'start', 'lifecycle'], env)
    await waitForRows(db, 'lifecycle', N)
    expect(await counts(db, 'lifecycle')).toEqual({ n: N, ids: N })

    const removed = JSON.parse((await cli(['pipelines', 'remove', 'lifecycle', '--purge', '--json'], env)).stdout) as { removed: boolean; purged: { stream: boolean; state: boolean } }
    expect(removed).toEqual({ fleet: 'default', pipeline: 'lifecycle', removed: true, purged: { stream: true, state: true } })
    expect((JSON.parse((await cli(['pipelines', 'list', '--json'], env)).stdout) as { name: string }[]).map((p) => p.name)).not.toContain('lifecycle')
    expect(await getStream(jsm, 'TRIB_LIFECYCLE')).toBeUndefined()
    expect(await getStream(jsm, 'KV_trib-state-lifecycle')).toBeUndefined()
    const ws = JSON.parse((await cli(['workers', 'list', '--json'], env)).stdout) as { pipelines: { name: string }[] }[]
    expect(ws.flatMap((w) => w.pipelines.map((p) => p.name))).not.toContain('lifecycle')
    const h = await runCli(['pipelines', 'history', 'lifecycle'], env)
    expect(h.code).toBe(1)
    expect(h.stderr).toMatch(/not deployed in fleet default/)
  })

  it('kill -9 of the worker holding the source lease: another takes the source over, exact counts', async () => {
    const N = 30_000
    await deploy('takeover', pipeline('takeover', { count: N, rate: 2500 }))
    const holder = await waitFor('a source lease holder', async () => (await status('takeover')).deployment?.leases.source)
    await waitFor('records flowing', async () => (await counts(db, 'takeover').catch(() => ({ n: 0 }))).n >= 5000)
    const victim = workers.find((w) => w.name === holder)!
    const survivor = workers.find((w) => w.name !== holder)!
    await victim.kill9()
    await waitFor('the survivor holds the source lease', async () => (await status('takeover')).deployment?.leases.source === survivor.name, 60_000)
    await waitForRows(db, 'takeover', N)
    expect(await counts(db, 'takeover')).toEqual({ n: N, ids: N })
    // The generator resumed from its saved position: no record was published twice into the stream.
    const jsm = await jetstreamManager(nc)
    expect((await getStream(jsm, 'TRIB_TAKEOVER'))!.state.messages).toBe(N)
    const s = await status('takeover')
    expect(s.deployment?.workers.find((w) => w.worker === holder)?.alive ?? false).toBe(false)
  })
})
