import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { connect } from '@nats-io/transport-node'
import type { NatsConnection } from '@nats-io/nats-core'
import { startNatsServer } from '../helpers/nats-server.js'
import { makeTempDir } from '../helpers/tmp.js'
import { readDlq } from '../helpers/dlq.js'
import { assertBuilt, runCli, spawnCli, type Background } from '../helpers/cli.js'

// kill -9 of a runtime that holds open windows, at random moments, several times, then a run to
// the end: the final aggregates equal those of an uninterrupted run and of a computation here —
// no window lost, none counted twice, none written twice. Repeats: TRIB_FAULT_REPEATS.
const REPEATS = Number(process.env.TRIB_FAULT_REPEATS ?? 2)
const RECORDS = 150_000
const KEYS = 20
const T0 = Date.UTC(2026, 2, 1, 9, 0, 0)

let nats: Awaited<ReturnType<typeof startNatsServer>>
let tmp: Awaited<ReturnType<typeof makeTempDir>>
let nc: NatsConnection
const children: Background[] = []
const expected = new Map<string, { n: number; total: number; users: Set<number> }>()
let late = 0

beforeAll(async () => {
  assertBuilt()
  ;[nats, tmp] = await Promise.all([startNatsServer(), makeTempDir('window-kill9')])
  nc = await connect({ servers: nats.url })
  const lines: string[] = []
  for (let i = 0; i < RECORDS; i++) {
    // 10 ms apart, up to 1.5 s out of order (lateness is 2 s); every 10,000th one a minute late.
    const isLate = i % 10_000 === 9_999
    const ts = T0 + i * 10 + ((i * 7919) % 4) * 500 - (isLate ? 60_000 : 0)
    const rec = { k: `k${(i * 37) % KEYS}`, ts, v: i % 11, user: (i * 13) % 97 }
    lines.push(JSON.stringify(rec))
    if (isLate) {
      late++
      continue
    }
    const start = Math.floor(ts / 5000) * 5000
    const key = `${rec.k}|${start}`
    const e = expected.get(key) ?? { n: 0, total: 0, users: new Set<number>() }
    e.n++
    e.total += rec.v * 2
    e.users.add(rec.user)
    expected.set(key, e)
  }
  await writeFile(path.join(tmp.dir, 'events.ndjson'), lines.join('\n') + '\n')
})

afterAll(async () => {
  for (const c of children) c.child.kill('SIGKILL')
  await nc?.close()
  await nats?.stop()
  await tmp?.remove()
})

// A stateless hop before the window (map), a stateless transform fused after it (map), ClickHouse.
function pipeline(name: string): string {
  return `name: ${name}
source: { use: file, config: { path: events.ndjson, batchSize: 2000 } }
transforms:
  - { use: map, config: { set: { double: "v * 2" } } }
  - use: window
    config: { kind: tumbling, every: 5s, time: event, timeField: ts, lateness: 2s, groupBy: [k], aggregate: { n: count(), total: sum(double), users: distinct(user) }, timeFormat: ms }
  - { use: map, config: { set: { start: window_start }, remove: [window_start, window_end] } }
sinks:
  - use: clickhouse
    config: { table: ${name}, columns: { k: String, start: Int64, n: UInt64, total: Float64, users: UInt32 }, orderBy: [k, start], batch: { rows: 2000, maxWait: 300ms } }
delivery: { ackWait: 10s }
`
}

async function rows(env: NodeJS.ProcessEnv, table: string): Promise<Map<string, string>> {
  const r = await runCli(['query', `SELECT k, start, n, total, users FROM ${table}`, '--json'], env)
  expect(r.code, r.stderr).toBe(0)
  const list = JSON.parse(r.stdout) as { k: string; start: number; n: number; total: number; users: number }[]
  const out = new Map<string, string>()
  for (const x of list) {
    const key = `${x.k}|${Number(x.start)}`
    // A window written twice would show here as a repeated key.
    expect(out.has(key), `window ${key} written twice`).toBe(false)
    out.set(key, `${Number(x.n)}/${Number(x.total)}/${Number(x.users)}`)
  }
  return out
}

const want = (): Map<string, string> => new Map([...expected].map(([k, e]) => [k, `${e.n}/${e.total}/${e.users.size}`]))

describe('kill -9 during a windowed run', () => {
  it('gives the same final windows as an uninterrupted run, and as a count made here', async () => {
    const env = { ...process.env, NATS_URL: nats.url, TRIBUTARY_HOME: path.join(tmp.dir, 'home') }

    const calm = path.join(tmp.dir, 'calm.yaml')
    await writeFile(calm, pipeline('win_calm'))
    const whole = await runCli(['run', calm], env, 300_000)
    expect(whole.code, whole.stderr).toBe(0)

    const crashed = path.join(tmp.dir, 'crashed.yaml')
    await writeFile(crashed, pipeline('win_crash'))
    for (let round = 0; round < REPEATS; round++) {
      const r = spawnCli(['run', crashed], env)
      children.push(r)
      // The fault: a random moment in the run (this wait injects the crash; nothing is asserted on time).
      await new Promise((res) => setTimeout(res, 1500 + Math.random() * 3000))
      r.child.kill('SIGKILL')
      await r.exited
    }
    const final = await runCli(['run', crashed], env, 300_000)
    expect(final.code, final.stderr).toBe(0)
    if (process.env.TRIB_FAULT_VERBOSE) process.stderr.write(final.stderr)

    const calmRows = await rows(env, 'win_calm')
    const crashRows = await rows(env, 'win_crash')
    expect(calmRows.size).toBe(expected.size)
    expect(calmRows).toEqual(want())
    expect(crashRows).toEqual(calmRows)
    // Late records are dead-lettered exactly once too (their DLQ ids repeat on redelivery).
    expect(await readDlq(nc, 'win_calm')).toHaveLength(late)
    expect(await readDlq(nc, 'win_crash')).toHaveLength(late)
  })
})
