import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { connect } from '@nats-io/transport-node'
import { jetstreamManager } from '@nats-io/jetstream'
import { Kvm } from '@nats-io/kv'
import type { NatsConnection } from '@nats-io/nats-core'
import { startNatsServer } from '../helpers/nats-server.js'
import { makeTempDir } from '../helpers/tmp.js'
import { runPipelineFile } from '../../core/app/run-pipeline.js'
import { Session } from '../../core/app/session.js'
import { TributaryError } from '../../core/errors.js'
import { stateBucket, streamName } from '../../core/jetstream/names.js'
import { readFinished } from '../../core/runtime/finished-marker.js'
import { replayPipelineFile } from '../../core/replay/run-replay.js'

// A keyed window split into 3 key partitions in one `run` process gives exactly the rows of the
// same window unsplit: the source (or the stateless group before the window) publishes each
// record on its partition's subject, each partition has its own durable and saved state, and the
// windows still open at the end of the file are emitted by every partition.
let nats: Awaited<ReturnType<typeof startNatsServer>>
let tmp: Awaited<ReturnType<typeof makeTempDir>>
let nc: NatsConnection
let env: NodeJS.ProcessEnv
let home: string

const T0 = Date.UTC(2026, 2, 1, 9, 0, 0)
const events: { k: string; ts: number; v: number }[] = []
/** The windows the input makes (key and 10 s span), counted here without the plugin. */
const windowsOf = (es: typeof events): number => new Set(es.map((e) => `${e.k}|${Math.floor(e.ts / 10_000)}`)).size

beforeAll(async () => {
  ;[nats, tmp] = await Promise.all([startNatsServer(), makeTempDir('partitions-run')])
  home = path.join(tmp.dir, 'home')
  env = { ...process.env, NATS_URL: nats.url }
  nc = await connect({ servers: nats.url })
  // 3000 events over 12 keys, a little out of order (within the allowed lateness).
  for (let i = 0; i < 3000; i++) {
    const jitter = ((i * 7919) % 5) * 400 - 800
    events.push({ k: `k${(i * 7) % 12}`, ts: T0 + i * 300 + jitter, v: i % 11 })
  }
  await writeFile(path.join(tmp.dir, 'events.ndjson'), `${events.map((e) => JSON.stringify(e)).join('\n')}\n`)
})

afterAll(async () => {
  await nc?.close()
  await nats?.stop()
  await tmp?.remove()
})

type Row = { k: string; start: number; end: number; n: number; total: number }

async function rows(table: string): Promise<Row[]> {
  const s = new Session({ home, env: {} })
  const ch = await s.clickhouse()
  try {
    const got = await ch.query<Row>(`SELECT k, start, end, n, total FROM ${table}`)
    return got.map((r) => ({ k: r.k, start: Number(r.start), end: Number(r.end), n: Number(r.n), total: Number(r.total) })).sort((a, b) => a.start - b.start || a.k.localeCompare(b.k))
  } finally {
    await ch.close()
    await s.close()
  }
}

/** `before`: a stateless stage ahead of the window (its group publishes to the partitions), or none (the source does). */
function pipeline(name: string, o: { partitions?: number; before?: boolean }): string {
  return `name: ${name}
source: { use: file, config: { path: events.ndjson, batchSize: 250 } }
transforms:
${o.before ? '  - { use: filter, config: { where: "v != 3" } }\n' : ''}  - use: window
    ${o.partitions ? `partitions: ${o.partitions}` : ''}
    config: { kind: tumbling, every: 10s, time: event, timeField: ts, lateness: 5s, groupBy: [k], aggregate: { n: count(), total: sum(v) }, startField: start, endField: end, timeFormat: ms }
sinks:
  - use: clickhouse
    config: { table: ${name}, columns: { k: String, start: Int64, end: Int64, n: UInt64, total: Float64 }, orderBy: [k, start] }
`
}

async function run(name: string, yaml: string): Promise<Awaited<ReturnType<typeof runPipelineFile>>> {
  const file = path.join(tmp.dir, `${name}.yaml`)
  await writeFile(file, yaml)
  return runPipelineFile(file, { home, env })
}

async function subjects(name: string): Promise<Record<string, number>> {
  const info = await (await jetstreamManager(nc)).streams.info(streamName(name), { subjects_filter: `trib.${name}.>` })
  return info.state.subjects ?? {}
}

describe('a keyed window split into key partitions, in one run', () => {
  it('partitions: 3 straight after the source gives the rows of partitions: 1, open windows included', async () => {
    const one = await run('whole', pipeline('whole', {}))
    const three = await run('split', pipeline('split', { partitions: 3 }))
    expect(one.completed).toBe(true)
    expect(three.completed).toBe(true)
    const want = await rows('whole')
    expect(want.length).toBe(windowsOf(events))
    expect(await rows('split')).toEqual(want)

    // The source published on the partition subjects only, and every partition got some keys.
    const s = await subjects('split')
    expect(Object.keys(s).filter((x) => x !== 'trib.split.dlq').sort()).toEqual(['trib.split.file.p0', 'trib.split.file.p1', 'trib.split.file.p2'])
    expect(Object.values(s).reduce((a, b) => a + b, 0)).toBe(3000)
    const consumers: string[] = []
    for await (const c of (await jetstreamManager(nc)).consumers.list(streamName('split'))) consumers.push(c.name)
    expect(consumers.sort()).toEqual(['split--window--p0', 'split--window--p1', 'split--window--p2'])

    // Each partition saved its own state, marked finished; the count is recorded.
    const kv = await new Kvm(nc).open(stateBucket('split'))
    for (const i of [0, 1, 2]) expect((await kv.get(`window._state.p${i}`))?.json<{ finished?: boolean }>().finished).toBe(true)
    expect((await kv.get('window._partitions'))?.json()).toEqual({ v: 1, count: 3, key: ['k'], subject: 'trib.split.file' })
    expect(await readFinished(kv, 'file')).toBeDefined()

    // `replay` reads the source's records from the partition subjects.
    const replay = await replayPipelineFile(path.join(tmp.dir, 'split.yaml'), { home, env, intoTable: 'split_replay' })
    expect(replay).toMatchObject({ records: 3000, completed: true })
  })

  it('after a stateless stage: its group publishes each output on the partition of its key', async () => {
    await run('whole_f', pipeline('whole_f', { before: true }))
    const s = await run('split_f', pipeline('split_f', { partitions: 3, before: true }))
    expect(s.completed).toBe(true)
    const want = await rows('whole_f')
    expect(want.length).toBe(windowsOf(events.filter((e) => e.v !== 3)))
    expect(await rows('split_f')).toEqual(want)
    const subs = await subjects('split_f')
    expect(Object.keys(subs).filter((x) => x.startsWith('trib.split_f.filter')).sort()).toEqual(['trib.split_f.filter.p0', 'trib.split_f.filter.p1', 'trib.split_f.filter.p2'])
  })

  it('a second run of the same file emits nothing again; another partition count is refused before anything is read', async () => {
    const before = await rows('split')
    const again = await run('split', pipeline('split', { partitions: 3 }))
    expect(again.completed).toBe(true)
    expect(again.source.published).toBe(0)
    expect(await rows('split')).toEqual(before)

    const published = Object.values(await subjects('split')).reduce((a, b) => a + b, 0)
    await writeFile(path.join(tmp.dir, 'events.ndjson'), `${JSON.stringify({ k: 'new', ts: T0 + 2_000_000, v: 1 })}\n`, { flag: 'a' })
    const err = await run('split', pipeline('split', { partitions: 2 })).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TributaryError)
    expect((err as TributaryError).code).toBe('E_STATE')
    expect((err as TributaryError).message).toMatch(/stage window ran with partitions: 3 and is now given partitions: 2/)
    expect((err as TributaryError).hint).toMatch(/new `id`/)
    // Refused before the source read the new line.
    expect(Object.values(await subjects('split')).reduce((a, b) => a + b, 0)).toBe(published)
  })
})
