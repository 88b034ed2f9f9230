import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { connect } from '@nats-io/transport-node'
import type { NatsConnection } from '@nats-io/nats-core'
import { startNatsServer } from '../helpers/nats-server.js'
import { makeTempDir } from '../helpers/tmp.js'
import { clickhouseServerSkipReason, startClickHouseServer, type ClickHouseServer } from '../helpers/clickhouse-server.js'
import { readSubject } from '../helpers/stream.js'
import { startPipeline } from '../helpers/pipeline.js'
import { waitFor } from '../helpers/cli.js'
import { runPipelineFile } from '../../core/app/run-pipeline.js'
import { Session } from '../../core/app/session.js'
import type { ClickHouse } from '../../core/plugin-api.js'

// Pipelines run in this process; so does embedded ClickHouse (one chDB home for the whole
// file: chDB allows one data directory per process). The test inserts rows through its own
// handle on the same chDB while a pipeline polls it.
let nats: Awaited<ReturnType<typeof startNatsServer>>
let tmp: Awaited<ReturnType<typeof makeTempDir>>
let nc: NatsConnection
let env: NodeJS.ProcessEnv
let home: string
let session: Session
let ch: ClickHouse

beforeAll(async () => {
  ;[nats, tmp] = await Promise.all([startNatsServer(), makeTempDir('sql-poll')])
  home = path.join(tmp.dir, 'home')
  env = { ...process.env, NATS_URL: nats.url }
  delete env.CLICKHOUSE_URL
  nc = await connect({ servers: nats.url })
  session = new Session({ home, env: {} })
  ch = await session.clickhouse()
})

afterAll(async () => {
  await ch?.close()
  await session?.close()
  await nc?.close()
  await nats?.stop()
  await tmp?.remove()
})

async function count(handle: ClickHouse, table: string): Promise<number> {
  return Number((await handle.query<{ n: number }>(`SELECT count() AS n FROM ${table}`))[0]!.n)
}

async function pipelineFile(name: string, yaml: string): Promise<string> {
  const file = path.join(tmp.dir, `${name}.yaml`)
  await writeFile(file, yaml)
  return file
}

/** Ids in the source's stream subject, in stream order. */
async function streamIds(pipeline: string): Promise<(number | string)[]> {
  return (await readSubject(nc, pipeline, 'sql-poll')).map((e) => (JSON.parse(e.data) as { id: number | string }).id)
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i)

/**
 * A DateTime cursor whose values repeat: 10 rows in one second, 40 in the next (more than a
 * batch of 25), then one per second. Read through a query with `{cursor}`, rows ordered by id
 * within a second; a second run reads only the rows added since, among them a run of 15 equal.
 */
async function tiesCase(name: string, handle: ClickHouse, url?: string): Promise<void> {
  const table = `${name}_ev`
  await handle.command(`CREATE TABLE ${table} (ts DateTime, id UInt64, v Float64) ENGINE = MergeTree ORDER BY (ts, id)`)
  const t0 = 1_700_000_000
  await handle.command(`INSERT INTO ${table} SELECT toDateTime(${t0} + if(number < 10, 0, if(number < 50, 1, number - 48))), number + 1, number / 4 FROM system.numbers LIMIT 70`)
  const file = await pipelineFile(name, `name: ${name}
source:
  use: sql-poll
  config:
    query: "SELECT ts, id, v FROM ${table} WHERE ts > {cursor}"
    from: '2000-01-01 00:00:00'
    cursorColumn: ts
    tieBreak: [id]
    batchSize: 25
    once: true
${url ? `    url: ${url}\n` : ''}# Records are checked in the stream; this sink takes none.
sinks: [ { use: stdout, where: "false" } ]
`)
  const first = await runPipelineFile(file, { home, env })
  expect(first.completed).toBe(true)
  expect(first.source.published).toBe(70)

  await handle.command(`INSERT INTO ${table} SELECT toDateTime(${t0} + 100), number + 71, 0 FROM system.numbers LIMIT 15`)
  const second = await runPipelineFile(file, { home, env })
  expect(second.source.published).toBe(15)
  const again = await runPipelineFile(file, { home, env })
  expect(again.source.published).toBe(0)
  expect(await streamIds(name)).toEqual(range(1, 85))
}

describe('sql-poll source on embedded ClickHouse (real nats-server, chDB in this process)', () => {
  it('reads a table by id while rows arrive, and after a restart reads only the rows added since', async () => {
    await ch.command('CREATE TABLE src (id UInt64, v String) ENGINE = MergeTree ORDER BY id')
    await ch.command('INSERT INTO src SELECT number + 1, toString(number + 1) FROM system.numbers LIMIT 100')
    const sinks = `sinks: [ { use: clickhouse, config: { table: dst, columns: { id: UInt64, v: String }, batch: { maxWait: 100ms } } } ]`
    const follow = await pipelineFile('sqlemb', `name: sqlemb
source: { use: sql-poll, config: { table: src, cursorColumn: id, interval: 100ms, batchSize: 30 } }
${sinks}
`)
    const running = await startPipeline(follow, { home, env })
    await waitFor('100 rows copied', async () => (await count(ch, 'dst')) === 100)
    await ch.command('INSERT INTO src SELECT number + 101, toString(number + 101) FROM system.numbers LIMIT 50')
    await waitFor('150 rows copied', async () => (await count(ch, 'dst')) === 150)
    const summary = await running.stop()
    expect(summary.source.published).toBe(150)

    // Stopped: rows added now are picked up by the next run, and only they.
    await ch.command('INSERT INTO src SELECT number + 151, toString(number + 151) FROM system.numbers LIMIT 25')
    const once = await pipelineFile('sqlemb-once', `name: sqlemb
source: { use: sql-poll, config: { table: src, cursorColumn: id, batchSize: 30, once: true } }
${sinks}
`)
    const rerun = await runPipelineFile(once, { home, env })
    expect(rerun.completed).toBe(true)
    expect(rerun.source.published).toBe(25)

    expect(await ch.query('SELECT count() AS n, uniqExact(id) AS ids, min(id) AS lo, max(id) AS hi FROM dst')).toEqual([{ n: 175, ids: 175, lo: 1, hi: 175 }])
    expect(await streamIds('sqlemb')).toEqual(range(1, 175))
    const records = (await readSubject(nc, 'sqlemb', 'sql-poll')).map((e) => JSON.parse(e.data) as Record<string, unknown>)
    expect(records[41]).toEqual({ id: 42, v: '42' })
  })

  it('DateTime cursor with runs of equal values longer than a batch (query with {cursor}, tieBreak)', async () => {
    await tiesCase('sqlties', ch)
  })
})

describe.skipIf(clickhouseServerSkipReason() !== undefined)('sql-poll source on a ClickHouse 18.16 server (no query parameters)', () => {
  let server: ClickHouseServer
  let srv: Session
  let sch: ClickHouse

  beforeAll(async () => {
    server = await startClickHouseServer()
    srv = new Session({ home, env: { CLICKHOUSE_URL: server.url } })
    sch = await srv.clickhouse()
  })

  afterAll(async () => {
    await sch?.close()
    await srv?.close()
    await server?.stop()
  })

  it('UInt64 ids above 2^53 (strings in JSON) go back as bare numbers; a restart reads only new rows', async () => {
    await sch.command('CREATE TABLE big (id UInt64, name String) ENGINE = MergeTree ORDER BY id')
    const base = '18446744073709551000'
    await sch.command(`INSERT INTO big SELECT ${base} + number + 1, concat('n', toString(number + 1)) FROM system.numbers LIMIT 35`)
    const file = await pipelineFile('sqlbig', `name: sqlbig
source: { use: sql-poll, config: { url: ${server.url}, table: big, columns: [id, name], cursorColumn: id, batchSize: 10, once: true } }
sinks: [ { use: stdout, where: "false" } ]
`)
    expect((await runPipelineFile(file, { home, env })).source.published).toBe(35)
    await sch.command(`INSERT INTO big SELECT ${base} + number + 36, concat('n', toString(number + 36)) FROM system.numbers LIMIT 5`)
    expect((await runPipelineFile(file, { home, env })).source.published).toBe(5)
    const ids = await streamIds('sqlbig')
    const expected = range(1, 40).map((n) => (BigInt(base) + BigInt(n)).toString())
    expect(ids).toEqual(expected)
  })

  it('DateTime cursor with runs of equal values longer than a batch, on 18.16', async () => {
    await tiesCase('sqltiessrv', sch, server.url)
  })
})
