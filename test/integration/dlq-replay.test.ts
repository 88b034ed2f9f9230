import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { connect } from '@nats-io/transport-node'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/nats-core'
import { startNatsServer } from '../helpers/nats-server.js'
import { makeTempDir } from '../helpers/tmp.js'
import { assertBuilt, runCli, spawnCli, waitFor, type Background } from '../helpers/cli.js'
import { runPipelineFile } from '../../core/app/run-pipeline.js'
import { Session } from '../../core/app/session.js'
import { natsServersOn } from '../../core/nats/process.js'
import type { ClickHouse } from '../../core/plugin-api.js'
import type { DlqEntry, RedriveSummary } from '../../core/dlq/types.js'
import type { ReplayResult } from '../../core/replay/types.js'
import { readDeadRecords } from '../../core/dlq/read.js'
import { redriveDeadRecords } from '../../core/dlq/redrive.js'
import { redriveMessage } from '../../core/dlq/redrive-message.js'
import { writeIntent } from '../../core/dlq/redrive-intent.js'
import { openStateBucket } from '../../core/jetstream/kv-state.js'
import { createPublisher } from '../../core/jetstream/publisher.js'
import { bumpEpoch } from '../../core/runtime/epoch.js'

// One nats-server and one home for the file. This process opens the home's chDB first and keeps
// it open, so it is the owner and every CLI child reaches ClickHouse through it (one data
// directory per process, FACTS). The dlq/replay/tap commands run as a user runs them: compiled.
let nats: Awaited<ReturnType<typeof startNatsServer>>
let tmp: Awaited<ReturnType<typeof makeTempDir>>
let nc: NatsConnection
let home: string
let env: NodeJS.ProcessEnv
let owner: Session
let ch: ClickHouse
const running: Background[] = []

beforeAll(async () => {
  assertBuilt()
  ;[nats, tmp] = await Promise.all([startNatsServer(), makeTempDir('dlq')])
  nc = await connect({ servers: nats.url })
  home = path.join(tmp.dir, 'home')
  env = { ...process.env, NATS_URL: nats.url, TRIBUTARY_HOME: home }
  delete env.CLICKHOUSE_URL
  owner = new Session({ home, env: {} })
  ch = await owner.clickhouse()
})

afterAll(async () => {
  for (const b of running) if (b.child.exitCode === null) b.child.kill('SIGKILL')
  await ch?.close()
  await owner?.close()
  await nc?.close()
  await nats?.stop()
  await tmp?.remove()
})

async function cli<T>(args: string[], cliEnv = env): Promise<T> {
  const r = await runCli([...args, '--json'], cliEnv)
  expect(r.code, r.stderr).toBe(0)
  return JSON.parse(r.stdout) as T
}

async function one<T>(sql: string): Promise<T> {
  return (await ch.query(sql))[0] as T
}

/** Data columns only: the origin column holds record ids, which a replay keys by its own epoch. */
const digest = (table: string): Promise<{ n: number; ids: number; h: string }> =>
  one(`SELECT count() AS n, uniqExact(id) AS ids, toString(sum(cityHash64(id, x))) AS h FROM ${table}`)

// 3000 records: every 100th has no `x` (the filter's expression fails on it), two lines are not JSON.
const N = 3000
const records = Array.from({ length: N }, (_, k) => (k + 1) % 100 === 0 ? { id: k + 1, y: 1 } : { id: k + 1, x: (k + 1) % 10 })
const lacking = records.filter((r) => !('x' in r)).length
const passing = (min: number): number => records.filter((r) => 'x' in r && r.x > min).length

const pipelineFile = (where: string): string => `name: dq
source: { use: file, config: { path: dq.ndjson, batchSize: 400 } }
transforms:
  - { use: filter, config: { where: ${JSON.stringify(where)} } }
sinks:
  - use: clickhouse
    config: { table: dq_events, columns: { id: UInt64, x: Float64 }, orderBy: [id], batch: { rows: 1000, maxWait: 200ms } }
`

describe('dead-letter queue, redrive, replay and tap (real nats-server, real chDB, compiled CLI)', () => {
  const file = (): string => path.join(tmp.dir, 'dq.yaml')

  it('malformed lines and rejected records are listed with their reasons; after the fix, dlq replay moves them through exactly once', async () => {
    const lines = records.map((r) => JSON.stringify(r))
    lines.splice(700, 0, '{"id": broken')
    lines.splice(2100, 0, 'not json at all')
    await writeFile(path.join(tmp.dir, 'dq.ndjson'), lines.join('\n') + '\n')
    await writeFile(file(), pipelineFile('x > 1'))

    const first = await runPipelineFile(file(), { home, env })
    expect(first.completed).toBe(true)
    expect(first.source.published).toBe(N)
    expect(first.source.dead).toBe(2)
    expect(await digest('dq_events')).toMatchObject({ n: passing(1), ids: passing(1) })

    const dead = await cli<DlqEntry[]>(['dlq', 'list', 'dq'])
    expect(dead).toHaveLength(lacking + 2)
    for (const e of dead) {
      expect(e.reason.length).toBeGreaterThan(0)
      expect(e.tries).toBe(1)
      expect(e.originSubject).toBe('trib.dq.file')
    }
    const atSource = dead.filter((e) => e.stage === 'file')
    expect(atSource.map((e) => e.record).sort()).toEqual(['not json at all', '{"id": broken'])
    for (const e of atSource) expect(e).toMatchObject({ plugin: 'file', code: 'E_RECORD', reason: expect.stringMatching(/not valid JSON/) })
    const rejected = dead.filter((e) => e.stage === 'filter')
    expect(rejected).toHaveLength(lacking)
    for (const e of rejected) expect(e).toMatchObject({ plugin: 'filter', code: 'E_REJECTED', reason: expect.stringContaining('x > 1'), record: { id: expect.any(Number), y: 1 } })
    expect(rejected.map((e) => (e.record as { id: number }).id)).toEqual(records.filter((r) => !('x' in r)).map((r) => r.id))

    const shown = await cli<DlqEntry>(['dlq', 'show', 'dq', String(rejected[0]!.seq)])
    expect(shown).toEqual(rejected[0])

    // The fix: records without x pass (as x = 0); then redrive only the filter's entries.
    await writeFile(file(), pipelineFile('!has(record.x) || x > 1'))
    const redrive = await cli<RedriveSummary>(['dlq', 'replay', 'dq', '--stage', 'filter'])
    expect(redrive).toMatchObject({ redriven: lacking, republished: lacking, subjects: { 'trib.dq.file': lacking }, recovered: 0 })
    expect(redrive.epoch).toBeGreaterThan(1)
    const left = await cli<DlqEntry[]>(['dlq', 'list', 'dq'])
    expect(left.map((e) => e.seq)).toEqual(atSource.map((e) => e.seq))

    const second = await runPipelineFile(file(), { home, env })
    expect(second.completed).toBe(true)
    expect(second.source.published).toBe(0)
    expect(await digest('dq_events')).toMatchObject({ n: passing(1) + lacking, ids: passing(1) + lacking })
    expect(await one('SELECT count() AS n FROM dq_events WHERE id % 100 = 0')).toEqual({ n: lacking })

    // Nothing comes twice: another run and another redrive of the same stage change nothing.
    expect((await runPipelineFile(file(), { home, env })).completed).toBe(true)
    expect(await cli<RedriveSummary>(['dlq', 'replay', 'dq', '--stage', 'filter'])).toMatchObject({ redriven: 0, republished: 0 })
    expect(await digest('dq_events')).toMatchObject({ n: passing(1) + lacking })
    expect(await cli<DlqEntry[]>(['dlq', 'list', 'dq'])).toHaveLength(2)
  })

  it('a redrive killed after publishing part of its records is finished by the next one, with nothing twice', async () => {
    const rows = Array.from({ length: 500 }, (_, k) => ((k + 1) % 50 === 0 ? { id: k + 1 } : { id: k + 1, x: 9 }))
    await writeFile(path.join(tmp.dir, 'rd.ndjson'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n')
    const rd = path.join(tmp.dir, 'rd.yaml')
    const write = (where: string): Promise<void> =>
      writeFile(rd, `name: rd
source: { use: file, config: { path: rd.ndjson } }
transforms: [ { use: filter, config: { where: ${JSON.stringify(where)} } } ]
sinks: [ { use: clickhouse, config: { table: rd_events, columns: { id: UInt64, x: Float64 }, batch: { maxWait: 100ms } } } ]
`)
    await write('x > 1')
    expect((await runPipelineFile(rd, { home, env })).completed).toBe(true)
    const dead = await readDeadRecords(nc, 'rd', 'test')
    expect(dead).toHaveLength(10)
    await write('!has(record.x) || x > 1')

    // What a redrive killed midway leaves: its intent in KV, 4 of its 10 records republished, no marker.
    const kv = await openStateBucket(jetstream(nc), 'rd')
    const epoch = await bumpEpoch(kv)
    await writeIntent(kv, { stage: 'filter', epoch, upTo: Math.max(...dead.map((e) => e.seq)) })
    const publisher = createPublisher(nc)
    await publisher.publishBatch(dead.slice(0, 4).map((e) => redriveMessage('rd', epoch, e)))
    await publisher.close()

    const summary = await redriveDeadRecords(nc, 'rd', 'test')
    expect(summary).toMatchObject({ recovered: 10, redriven: 10, republished: 10 })
    expect(await readDeadRecords(nc, 'rd', 'test')).toEqual([])
    expect((await runPipelineFile(rd, { home, env })).completed).toBe(true)
    // The 4 republished twice were dropped by the duplicate window (same epoch, same ids).
    expect(await one('SELECT count() AS n, uniqExact(id) AS ids FROM rd_events')).toEqual({ n: 500, ids: 500 })
  })

  it('replay --into-table builds a table equal to the original, without moving the pipeline’s consumer', async () => {
    const jsm = await jetstreamManager(nc)
    const before = await jsm.consumers.info('TRIB_DQ', 'dq--filter')
    const r = await cli<ReplayResult>(['replay', file(), '--into-table', 'dq_copy'])
    // Every source message once; the redriven copies are skipped since their originals are replayed.
    expect(r).toMatchObject({ pipeline: 'dq', records: N, skipped: lacking, dead: 0, completed: true, table: { original: 'dq_events', into: 'dq_copy' } })
    expect(r.table?.swapped).toBeUndefined()
    const original = await digest('dq_events')
    expect(original.n).toBe(passing(1) + lacking)
    expect(await digest('dq_copy')).toEqual(original)

    const after = await jsm.consumers.info('TRIB_DQ', 'dq--filter')
    expect(after.delivered.stream_seq).toBe(before.delivered.stream_seq)
    expect(after.num_pending).toBe(0)
    const names: string[] = []
    for await (const c of jsm.consumers.list('TRIB_DQ')) names.push(c.name)
    expect(names).toEqual(['dq--filter'])

    const again = await runCli(['replay', file(), '--into-table', 'dq_copy'], env)
    expect(again.code).not.toBe(0)
    expect(again.stderr).toContain('table dq_copy already exists')
  })

  it('replay --into-table --swap puts a backfill with a changed transform in place (EXCHANGE TABLES on chDB)', async () => {
    await writeFile(file(), pipelineFile('!has(record.x) || x > 5'))
    const r = await cli<ReplayResult>(['replay', file(), '--into-table', 'dq_v2', '--swap'])
    expect(r).toMatchObject({ records: N, completed: true, table: { original: 'dq_events', into: 'dq_v2', swapped: 'exchange' } })
    expect(await digest('dq_events')).toMatchObject({ n: passing(5) + lacking, ids: passing(5) + lacking })
    expect(await digest('dq_v2')).toMatchObject({ n: passing(1) + lacking })
    expect(await one('SELECT min(x) AS m FROM dq_events WHERE id % 100 != 0')).toEqual({ m: 6 })
  })

  it('replay from a sequence or a time, and says so when asked for history that retention no longer keeps', async () => {
    const lines = Array.from({ length: 200 }, (_, i) => JSON.stringify({ id: i + 1, x: 9 }))
    await writeFile(path.join(tmp.dir, 'ret.ndjson'), lines.join('\n') + '\n')
    const ret = path.join(tmp.dir, 'ret.yaml')
    await writeFile(ret, `name: ret
source: { use: file, config: { path: ret.ndjson, batchSize: 50 } }
sinks: [ { use: clickhouse, config: { table: ret_events, columns: { id: UInt64, x: Float64 }, batch: { maxWait: 100ms } } } ]
`)
    expect((await runPipelineFile(ret, { home, env })).completed).toBe(true)
    const jsm = await jetstreamManager(nc)
    // Retention at work: everything before sequence 51 is gone.
    await jsm.streams.purge('TRIB_RET', { seq: 51 })

    const tooOld = await runCli(['replay', ret, '--from-seq', '10', '--into-table', 'ret_a'], env)
    expect(tooOld.code).toBe(2)
    expect(tooOld.stderr).toContain('sequence 10 is no longer retained: stream TRIB_RET starts at sequence 51')
    const oldTime = await runCli(['replay', ret, '--since', '2020-01-01', '--into-table', 'ret_a'], env)
    expect(oldTime.code).toBe(2)
    expect(oldTime.stderr).toContain('is no longer retained')

    expect(await cli<ReplayResult>(['replay', ret, '--from-seq', '151', '--into-table', 'ret_b'])).toMatchObject({ fromSeq: 151, toSeq: 200, records: 50, completed: true })
    expect(await one('SELECT count() AS n, min(id) AS lo FROM ret_b')).toEqual({ n: 50, lo: 151 })
    const stored = (await jsm.streams.getMessage('TRIB_RET', { seq: 181 }))!.time
    expect(await cli<ReplayResult>(['replay', ret, '--since', stored.toISOString(), '--into-table', 'ret_c'])).toMatchObject({ records: expect.any(Number), completed: true })
    const c = await one<{ n: number; lo: number }>('SELECT count() AS n, min(id) AS lo FROM ret_c')
    // Messages stored in the same millisecond as 181 may come along; never one stored before it.
    expect(c.lo).toBeLessThanOrEqual(181)
    expect(c.n).toBe(200 - c.lo + 1)
    expect(await cli<ReplayResult>(['replay', ret, '--since', '2999-01-01', '--into-table', 'ret_d'])).toMatchObject({ epoch: 0, records: 0 })
  })

  it('dlq purge empties the list; an unknown pipeline is a clear error', async () => {
    expect(await cli<{ purged: number }>(['dlq', 'purge', 'dq', '--yes'])).toEqual({ pipeline: 'dq', purged: 2 })
    expect(await cli<DlqEntry[]>(['dlq', 'list', 'dq'])).toEqual([])
    const r = await runCli(['dlq', 'list', 'nope'], env)
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('pipeline "nope" has no stream TRIB_NOPE on the NATS server in NATS_URL')
  })

  it('tap prints live records of the source and does not disturb the flow', async () => {
    const live = path.join(tmp.dir, 'live.yaml')
    await writeFile(live, `name: live
source: { use: generate, config: { template: { id: "i", v: "i % 7" }, rate: 200, batchSize: 20 } }
sinks: [ { use: stdout, config: {} } ]
`)
    const bg = spawnCli(['run', live], env)
    running.push(bg)
    const jsm = await jetstreamManager(nc)
    await waitFor('the live pipeline to publish', async () => ((await jsm.streams.info('TRIB_LIVE').catch(() => undefined))?.state.messages ?? 0) > 0)
    const plain = await runCli(['tap', 'live', '--limit', '5'], env, 60_000)
    expect(plain.code, plain.stderr).toBe(0)
    const recs = plain.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: number; v: number })
    expect(recs).toHaveLength(5)
    for (let i = 1; i < 5; i++) expect(recs[i]!.id).toBe(recs[0]!.id + i)
    for (const r of recs) expect(r.v).toBe(r.id % 7)

    const withMeta = await runCli(['tap', 'live', 'generate', '--limit', '3', '--json'], env, 60_000)
    expect(withMeta.code, withMeta.stderr).toBe(0)
    for (const l of withMeta.stdout.trim().split('\n')) expect(JSON.parse(l)).toMatchObject({ subject: 'trib.live.generate', id: expect.stringMatching(/^live:generate:\d+:\d+$/), record: { id: expect.any(Number) } })

    // A plain subscription: no consumer was created on the stream, the pipeline's is the only one.
    const names: string[] = []
    for await (const c of jsm.consumers.list('TRIB_LIVE')) names.push(c.name)
    expect(names).toEqual(['live--stdout'])
    bg.child.kill('SIGTERM')
    expect(await bg.exited).toBe(0)
  })

  it('dlq list works after `run` exited, on the home’s private NATS server', async () => {
    const home2 = path.join(tmp.dir, 'home2')
    const env2: NodeJS.ProcessEnv = { ...process.env, TRIBUTARY_HOME: home2 }
    delete env2.NATS_URL
    await writeFile(path.join(tmp.dir, 'solo.ndjson'), '{"id":1}\n{"id": oops\n{"id":3}\n')
    await writeFile(path.join(tmp.dir, 'solo.yaml'), `name: solo
source: { use: file, config: { path: solo.ndjson } }
sinks: [ { use: stdout, config: {} } ]
`)
    const run = await runCli(['run', path.join(tmp.dir, 'solo.yaml')], env2)
    expect(run.code, run.stderr).toBe(0)
    const dead = await cli<DlqEntry[]>(['dlq', 'list', 'solo'], env2)
    expect(dead).toHaveLength(1)
    expect(dead[0]).toMatchObject({ stage: 'file', record: '{"id": oops', reason: expect.stringContaining('not valid JSON') })
    expect(natsServersOn(path.join(home2, 'nats', 'store'))).toEqual([])
  })
})
