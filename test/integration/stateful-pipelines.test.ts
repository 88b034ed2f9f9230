import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { Kvm } from '@nats-io/kv'
import { readDlq } from '../helpers/dlq.js'
import { startPipelineEnv, type PipelineEnv } from '../helpers/pipeline-env.js'
import { repoRoot, runCli } from '../helpers/cli.js'
import { runPipelineFile } from '../../core/app/run-pipeline.js'

// Stateful stages on real nats-server and chDB; every expected value is computed here, from the
// input, without the plugins' code. One chDB home for the file (one data directory per process).
let t: PipelineEnv

beforeAll(async () => {
  t = await startPipelineEnv('stateful', { cli: true })
})

afterAll(async () => {
  await t?.close()
})

async function run(name: string, yaml: string): Promise<Awaited<ReturnType<typeof runPipelineFile>>> {
  const file = path.join(t.dir, `${name}.yaml`)
  await writeFile(file, yaml)
  const summary = await runPipelineFile(file, { home: t.home, env: t.env })
  expect(summary.completed).toBe(true)
  return summary
}

const T0 = Date.UTC(2026, 2, 1, 9, 0, 0)
const SEC = 1000

/** 3000 events over ten keys, a little out of order (≤ 2.5 s), with quiet spells that end sessions, and 5 clicks a minute late. */
function events(): { records: { k: string; ts: number; v: number }[]; late: number } {
  const records: { k: string; ts: number; v: number }[] = []
  let t = T0
  for (let i = 0; i < 3000; i++) {
    t += 500
    if (i % 250 === 249) t += 40 * SEC
    const jitter = ((i * 7919) % 6) * 500 - 1250 // -1.25 s … +1.25 s
    records.push({ k: `k${(i * 31) % 10}`, ts: t + jitter, v: i % 7 })
    if (i % 600 === 599) records.push({ k: 'late', ts: t - 60 * SEC, v: 100 })
  }
  return { records, late: records.filter((r) => r.k === 'late').length }
}

type Row = { k: string; start: number; end: number; n: number; total: number }
const sortRows = (rows: Row[]): Row[] => rows.map((r) => ({ k: r.k, start: Number(r.start), end: Number(r.end), n: Number(r.n), total: Number(r.total) })).sort((a, b) => a.start - b.start || a.end - b.end || (a.k < b.k ? -1 : a.k > b.k ? 1 : 0))

function windowPipeline(name: string, window: string): string {
  return `name: ${name}
source: { use: file, config: { path: events.ndjson, batchSize: 400 } }
transforms:
  - use: window
    config: { ${window}, time: event, timeField: ts, lateness: 5s, groupBy: [k], aggregate: { n: count(), total: sum(v) }, startField: start, endField: end, timeFormat: ms }
sinks:
  - use: clickhouse
    config: { table: ${name}, columns: { k: String, start: Int64, end: Int64, n: UInt64, total: Float64 }, orderBy: [k, start] }
`
}

describe('window on real JetStream and ClickHouse', () => {
  const { records, late } = events()
  const onTime = records.filter((r) => r.k !== 'late')
  beforeAll(async () => {
    await writeFile(path.join(t.dir, 'events.ndjson'), records.map((r) => JSON.stringify(r)).join('\n') + '\n')
  })

  it('tumbling 10 s on event time: one row per window and key, equal to a count by floor(ts / 10 s); late clicks in the DLQ', async () => {
    const s = await run('win_tumbling', windowPipeline('win_tumbling', 'kind: tumbling, every: 10s'))
    expect(s.source.published).toBe(records.length)
    const want = new Map<string, Row>()
    for (const r of onTime) {
      const start = Math.floor(r.ts / (10 * SEC)) * 10 * SEC
      const key = `${r.k}|${start}`
      const row = want.get(key) ?? { k: r.k, start, end: start + 10 * SEC, n: 0, total: 0 }
      row.n++
      row.total += r.v
      want.set(key, row)
    }
    expect(sortRows(await t.query<Row>('SELECT k, start, end, n, total FROM win_tumbling'))).toEqual(sortRows([...want.values()]))
    const dlq = await readDlq(t.nc, 'win_tumbling')
    expect(dlq).toHaveLength(late)
    for (const d of dlq) {
      expect(d.headers['Trib-Stage']).toBe('window')
      expect(d.headers['Trib-Error-Code']).toBe('E_REJECTED')
      expect(d.headers['Trib-Reason']).toMatch(/^late: time .* falls only in windows already closed by the watermark/)
    }
  })

  it('hopping 20 s every 10 s: each record in the two windows that contain it', async () => {
    await run('win_hopping', windowPipeline('win_hopping', 'kind: hopping, size: 20s, every: 10s'))
    const want = new Map<string, Row>()
    for (const r of onTime) {
      const last = Math.floor(r.ts / (10 * SEC)) * 10 * SEC
      for (const start of [last - 10 * SEC, last]) {
        const key = `${r.k}|${start}`
        const row = want.get(key) ?? { k: r.k, start, end: start + 20 * SEC, n: 0, total: 0 }
        row.n++
        row.total += r.v
        want.set(key, row)
      }
    }
    expect(sortRows(await t.query<Row>('SELECT k, start, end, n, total FROM win_hopping'))).toEqual(sortRows([...want.values()]))
    expect(await readDlq(t.nc, 'win_hopping')).toHaveLength(late)
  })

  it('session, gap 15 s: per key, records less than 15 s apart form a session [first, last + 15 s)', async () => {
    await run('win_session', windowPipeline('win_session', 'kind: session, gap: 15s'))
    const want: Row[] = []
    const byKey = new Map<string, { ts: number; v: number }[]>()
    for (const r of onTime) byKey.set(r.k, [...(byKey.get(r.k) ?? []), r])
    for (const [k, list] of byKey) {
      list.sort((a, b) => a.ts - b.ts)
      let cur: Row | undefined
      let lastTs = 0
      for (const r of list) {
        if (!cur || r.ts - lastTs >= 15 * SEC) {
          if (cur) want.push({ ...cur, end: lastTs + 15 * SEC })
          cur = { k, start: r.ts, end: 0, n: 0, total: 0 }
        }
        cur.n++
        cur.total += r.v
        lastTs = r.ts
      }
      if (cur) want.push({ ...cur, end: lastTs + 15 * SEC })
    }
    expect(want.length).toBeGreaterThan(100)
    expect(sortRows(await t.query<Row>('SELECT k, start, end, n, total FROM win_session'))).toEqual(sortRows(want))
    expect(await readDlq(t.nc, 'win_session')).toHaveLength(late)
  })

  it('a rerun after the input grew: new windows only, sums per window still exact', async () => {
    const more = Array.from({ length: 200 }, (_, i) => ({ k: `k${i % 10}`, ts: records[records.length - 1]!.ts + 60 * SEC + i * 500, v: 1 }))
    await writeFile(path.join(t.dir, 'events.ndjson'), [...records, ...more].map((r) => JSON.stringify(r)).join('\n') + '\n')
    const s = await run('win_tumbling', windowPipeline('win_tumbling', 'kind: tumbling, every: 10s'))
    expect(s.source.published).toBe(200)
    const [row] = await t.query<{ n: number; total: number }>('SELECT sum(n) AS n, sum(total) AS total FROM win_tumbling')
    expect(Number(row!.n)).toBe(onTime.length + 200)
    expect(Number(row!.total)).toBe(onTime.reduce((a, r) => a + r.v, 0) + 200)
    await writeFile(path.join(t.dir, 'events.ndjson'), records.map((r) => JSON.stringify(r)).join('\n') + '\n')
  })
})

describe('dedupe, aggregate and join', () => {
  it('dedupe by id within 1 h: exactly one record per id reaches ClickHouse', async () => {
    const lines = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ id: (i * 13) % 1500, i }))
    await writeFile(path.join(t.dir, 'dups.ndjson'), lines.join('\n') + '\n')
    await run('dedup', `name: dedup
source: { use: file, config: { path: dups.ndjson, batchSize: 300 } }
transforms: [ { use: dedupe, config: { key: [id], within: 1h } } ]
sinks: [ { use: clickhouse, config: { table: dedup, columns: { id: UInt32, i: UInt32 }, orderBy: [id] } } ]
`)
    const [row] = await t.query<{ n: number; ids: number; firsts: number }>('SELECT count() AS n, uniqExact(id) AS ids, sum(i) AS firsts FROM dedup')
    // The first occurrence of each id wins: for id = 13i mod 1500 the first i is the smallest.
    const first = new Map<number, number>()
    for (let i = 0; i < 2000; i++) if (!first.has((i * 13) % 1500)) first.set((i * 13) % 1500, i)
    expect({ n: Number(row!.n), ids: Number(row!.ids), firsts: Number(row!.firsts) }).toEqual({ n: 1500, ids: 1500, firsts: [...first.values()].reduce((a, b) => a + b, 0) })
  })

  it('validate --plan says where a stateful stage resumes: the sequence of its saved state head', async () => {
    const lines = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ id: (i * 7) % 900, i }))
    await writeFile(path.join(t.dir, 'planned.ndjson'), lines.join('\n') + '\n')
    // A file sink: the CLI child reads JetStream only, while this process holds the home's chDB.
    await run('planned', `name: planned
source: { use: file, config: { path: planned.ndjson, batchSize: 250 } }
transforms: [ { use: dedupe, config: { key: [id], within: 1h } } ]
sinks: [ { use: file, config: { path: planned-out.ndjson } } ]
`)
    const head = (await (await new Kvm(t.nc).open('trib-state-planned')).get('dedupe._state'))!.json<{ seq: number; finished?: boolean }>()
    // The saved state covers every input: the source published 2000 records, sequences 1…2000.
    expect(head.seq).toBe(2000)
    const text = await runCli(['validate', path.join(t.dir, 'planned.yaml'), '--plan'], t.env)
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toMatch(/resume\s+consumer\s+planned--dedupe\s+resumes after sequence 2000, where the saved state of dedupe ends/)
    expect(text.stdout).not.toMatch(/after sequence 0\b/)
    const json = await runCli(['validate', path.join(t.dir, 'planned.yaml'), '--plan', '--json'], t.env)
    const plan = (JSON.parse(json.stdout) as { plan: { action: string; what: string; name: string; detail: string }[] }[])[0]!.plan
    expect(plan.find((i) => i.what === 'consumer')).toEqual({ action: 'resume', what: 'consumer', name: 'planned--dedupe', detail: `resumes after sequence 2000, where the saved state of dedupe ends${head.finished ? ' (it had finished its input)' : ''}` })
  })

  it('a state larger than one KV value is saved in chunks, head last, and restored from them', async () => {
    const id = (i: number): string => `user-${String(i).padStart(8, '0')}@example.com`
    await writeFile(path.join(t.dir, 'many.ndjson'), Array.from({ length: 60_000 }, (_, i) => JSON.stringify({ id: id(i) })).join('\n') + '\n')
    const yaml = `name: many
source: { use: file, config: { path: many.ndjson, batchSize: 5000 } }
transforms: [ { use: dedupe, config: { key: [id], last: 100000 } } ]
sinks: [ { use: clickhouse, config: { table: many, columns: { id: String }, orderBy: [id] } } ]
`
    await run('many', yaml)
    const kv = await new Kvm(t.nc).open('trib-state-many')
    const head = (await kv.get('dedupe._state'))!.json<{ seq: number; gen?: number; chunks?: number }>()
    expect(head.chunks).toBeGreaterThan(1) // 60,000 keys: over 2 MB of JSON
    expect((await kv.get(`dedupe._state.${head.gen}.${head.chunks! - 1}`))?.operation).toBe('PUT')
    // More input, all of it repeats of keys in the saved state: a restored dedupe drops every one.
    const text = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ id: id(i * 37) })).join('\n') + '\n'
    await writeFile(path.join(t.dir, 'many.ndjson'), text, { flag: 'a' })
    const again = await run('many', yaml)
    expect(again.source.published).toBe(1000)
    const [row] = await t.query<{ n: number; ids: number }>('SELECT count() AS n, uniqExact(id) AS ids FROM many')
    expect({ n: Number(row!.n), ids: Number(row!.ids) }).toEqual({ n: 60_000, ids: 60_000 })
  })

  it('aggregate: one update per input; the latest version per key is the running total', async () => {
    const lines = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ k: `g${i % 4}`, v: i }))
    await writeFile(path.join(t.dir, 'agg.ndjson'), lines.join('\n') + '\n')
    await run('agg', `name: agg
source: { use: file, config: { path: agg.ndjson, batchSize: 150 } }
transforms: [ { use: aggregate, config: { groupBy: [k], aggregate: { n: count(), total: sum(v), top: max(v) } } } ]
sinks: [ { use: clickhouse, config: { table: agg, columns: { k: String, n: UInt64, total: Float64, top: Float64, version: UInt64 }, orderBy: [k, version] } } ]
`)
    const rows = await t.query<{ k: string; updates: number; n: number; total: number; top: number }>('SELECT k, count() AS updates, argMax(n, version) AS n, argMax(total, version) AS total, argMax(top, version) AS top FROM agg GROUP BY k ORDER BY k')
    expect(rows.map((r) => ({ k: r.k, updates: Number(r.updates), n: Number(r.n), total: Number(r.total), top: Number(r.top) }))).toEqual(
      [0, 1, 2, 3].map((g) => {
        const vs = Array.from({ length: 250 }, (_, j) => j * 4 + g)
        return { k: `g${g}`, updates: 250, n: 250, total: vs.reduce((a, b) => a + b, 0), top: 996 + g }
      }),
    )
  })

  it('join two streams within 1 min (orders with payments), left: unmatched orders emitted alone', async () => {
    const lines: string[] = []
    const want = new Set<string>()
    for (let o = 0; o < 300; o++) {
      const t = T0 + o * 2 * SEC
      lines.push(JSON.stringify({ kind: 'order', order: `o${o}`, ts: t, amount: o }))
      if (o % 3 === 0) lines.push(JSON.stringify({ kind: 'payment', order: `o${o}`, ts: t + 30 * SEC, paid: o })) // matches
      else if (o % 3 === 1) lines.push(JSON.stringify({ kind: 'payment', order: `o${o}`, ts: t + 61 * SEC, paid: o })) // too late to match
      want.add(o % 3 === 0 ? `o${o}:${o}:${o}` : `o${o}:${o}:null`)
    }
    // Payments and orders interleave by time, as they would arrive.
    lines.sort((a, b) => (JSON.parse(a) as { ts: number }).ts - (JSON.parse(b) as { ts: number }).ts)
    await writeFile(path.join(t.dir, 'orders.ndjson'), lines.join('\n') + '\n')
    await run('orders_paid', `name: orders_paid
source: { use: file, config: { path: orders.ndjson, batchSize: 100 } }
transforms:
  - use: join
    config: { mode: stream, on: order, left: 'kind == "order"', right: 'kind == "payment"', within: 1m, time: event, timeField: ts, type: left }
sinks: [ { use: clickhouse, config: { table: orders_paid, columns: { order: String, amount: UInt32, paid: Nullable(UInt32) }, orderBy: [order] } } ]
`)
    const rows = await t.query<{ order: string; amount: number; paid: number | null }>('SELECT order, amount, paid FROM orders_paid')
    expect(rows).toHaveLength(300)
    expect(new Set(rows.map((r) => `${r.order}:${r.amount}:${r.paid}`))).toEqual(want)
  })
})

describe('examples/clickstream', () => {
  const dir = path.join(repoRoot, 'examples', 'clickstream')
  const users = new Map(
    readFileSync(path.join(dir, 'users.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','))
      .map(([id, , country, plan]) => [id!, { country: country!, plan: plan! }]),
  )
  const clicks = readFileSync(path.join(dir, 'clicks.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { ts: string; user_id: string; page: string })
    .map((c) => ({ ...c, t: Date.parse(c.ts) }))
  // Late: a click more than the allowed 30 s behind the newest one seen before it, by far (hours).
  let max = -Infinity
  const onTime = clicks.filter((c) => {
    const isLate = c.t < max - 3_600_000
    max = Math.max(max, c.t)
    return !isLate
  })
  const dt = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace('T', ' ')

  it('users → lookup table; sessions per user joined with it, equal to sessionizing clicks.ndjson here', async () => {
    expect(clicks.length - onTime.length).toBe(2)
    await runPipelineFile(path.join(dir, 'users.yaml'), { home: t.home, env: t.env })
    const s = await runPipelineFile(path.join(dir, 'sessions.yaml'), { home: t.home, env: t.env })
    expect(s.completed).toBe(true)
    const want: string[] = []
    const byUser = new Map<string, typeof onTime>()
    for (const c of onTime) byUser.set(c.user_id, [...(byUser.get(c.user_id) ?? []), c])
    for (const [u, list] of byUser) {
      list.sort((a, b) => a.t - b.t)
      const info = users.get(u)
      let session: typeof onTime = []
      const close = (): void => {
        const last = session[session.length - 1]!
        want.push([u, info?.country ?? null, info?.plan ?? null, dt(session[0]!.t), dt(last.t + 1_800_000), session.length, new Set(session.map((c) => c.page)).size, session[0]!.page, last.page].join('|'))
      }
      for (const c of list) {
        if (session.length && c.t - session[session.length - 1]!.t >= 1_800_000) {
          close()
          session = []
        }
        session.push(c)
      }
      close()
    }
    const rows = await t.query<Record<string, string | number | null>>("SELECT user_id, country, plan, toString(window_start) AS s, toString(window_end) AS e, views, pages, entry, exit FROM clickstream_sessions")
    expect(rows.map((r) => [r.user_id, r.country, r.plan, r.s, r.e, Number(r.views), Number(r.pages), r.entry, r.exit].join('|')).sort()).toEqual(want.sort())
    expect(await readDlq(t.nc, 'clickstream_sessions')).toHaveLength(2)
  })

  it('page views per minute and country, equal to a count by minute here', async () => {
    await runPipelineFile(path.join(dir, 'pageviews.yaml'), { home: t.home, env: t.env })
    const want = new Map<string, { views: number; users: Set<string> }>()
    for (const c of onTime) {
      const key = [dt(Math.floor(c.t / 60_000) * 60_000), c.page, users.get(c.user_id)?.country ?? null].join('|')
      const w = want.get(key) ?? { views: 0, users: new Set() }
      w.views++
      w.users.add(c.user_id)
      want.set(key, w)
    }
    const rows = await t.query<Record<string, string | number | null>>('SELECT toString(window_start) AS s, page, country, views, users FROM clickstream_pageviews')
    expect(rows.map((r) => `${[r.s, r.page, r.country].join('|')}=${r.views}/${r.users}`).sort()).toEqual([...want].map(([k, w]) => `${k}=${w.views}/${w.users.size}`).sort())
    expect(await readDlq(t.nc, 'clickstream_pageviews')).toHaveLength(2)
  })
})
