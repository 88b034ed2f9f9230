import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { startNatsServer } from '../helpers/nats-server.js'
import { startClickHouseServer } from '../helpers/clickhouse-server.js'
import { makeTempDir } from '../helpers/tmp.js'
import { assertBuilt, runCli, spawnCli, type Background } from '../helpers/cli.js'

// kill -9 of the runtime at random moments, several times, then a run to the end: every
// record exactly once. Repeats: TRIB_FAULT_REPEATS (a few by default, many when asked).
const REPEATS = Number(process.env.TRIB_FAULT_REPEATS ?? 2)
const RECORDS = 120_000

let nats: Awaited<ReturnType<typeof startNatsServer>>
let tmp: Awaited<ReturnType<typeof makeTempDir>>
const children: Background[] = []
let expected = 0

beforeAll(async () => {
  assertBuilt()
  ;[nats, tmp] = await Promise.all([startNatsServer(), makeTempDir('kill9')])
  let text = ''
  for (let i = 1; i <= RECORDS; i++) {
    const value = (i * 7919) % 1000
    text += `${JSON.stringify({ id: i, value, pad: 'x'.repeat(40) })}\n`
    if (value >= 200) expected++
  }
  await writeFile(path.join(tmp.dir, 'in.ndjson'), text)
})

afterAll(async () => {
  for (const c of children) c.child.kill('SIGKILL')
  await nats?.stop()
  await tmp?.remove()
})

function pipeline(name: string, sink: string): string {
  return `name: ${name}
source: { use: file, config: { path: in.ndjson, batchSize: 2000 } }
transforms: [ { use: filter, config: { where: "value >= 200" } } ]
sinks:
  - use: clickhouse
    config: { table: ${name}, columns: { id: UInt64, value: UInt32 }, orderBy: [id], ${sink} batch: { rows: 5000, maxWait: 300ms } }
delivery: { ackWait: 10s }
`
}

async function crashLoop(file: string, env: NodeJS.ProcessEnv, parallel = 1): Promise<void> {
  for (let round = 0; round < REPEATS; round++) {
    const runs = Array.from({ length: parallel }, () => spawnCli(['run', file], env))
    children.push(...runs)
    // The fault: a random moment in the run (this wait injects the crash; nothing is asserted on time).
    await new Promise((r) => setTimeout(r, 1200 + Math.random() * 2500))
    for (const r of runs) r.child.kill('SIGKILL')
    await Promise.all(runs.map((r) => r.exited))
  }
  const finals = await Promise.all(Array.from({ length: parallel }, () => runCli(['run', file], env, 300_000)))
  for (const f of finals) expect(f.code, f.stderr).toBe(0)
  if (process.env.TRIB_FAULT_VERBOSE) for (const f of finals) process.stderr.write(f.stderr)
}

async function counts(env: NodeJS.ProcessEnv, table: string): Promise<{ n: number; ids: number }> {
  const r = await runCli(['query', `SELECT count() AS n, uniqExact(id) AS ids FROM ${table}`, '--json'], env)
  expect(r.code, r.stderr).toBe(0)
  return (JSON.parse(r.stdout) as { n: number; ids: number }[])[0]!
}

describe('kill -9 at random moments loses nothing and duplicates nothing', () => {
  it('embedded ClickHouse, one runtime', async () => {
    const file = path.join(tmp.dir, 'one.yaml')
    await writeFile(file, pipeline('crash_one', ''))
    const env = { ...process.env, NATS_URL: nats.url, TRIBUTARY_HOME: path.join(tmp.dir, 'home-one') }
    await crashLoop(file, env)
    expect(await counts(env, 'crash_one')).toEqual({ n: expected, ids: expected })
  })

  it('embedded ClickHouse, two runtimes sharing one durable', async () => {
    const file = path.join(tmp.dir, 'two.yaml')
    await writeFile(file, pipeline('crash_two', ''))
    const env = { ...process.env, NATS_URL: nats.url, TRIBUTARY_HOME: path.join(tmp.dir, 'home-two') }
    await crashLoop(file, env, 2)
    const c = await counts(env, 'crash_two')
    if (c.n !== expected && process.env.TRIB_FAULT_VERBOSE) {
      const d = await runCli(['query', 'SELECT id, groupArray(_trib_origin) AS origins FROM crash_two GROUP BY id HAVING count() > 1 ORDER BY id LIMIT 5', '--json'], env)
      process.stderr.write(`DUPLICATES ${d.stdout}\n`)
      const s = await runCli(['query', 'SELECT min(id) AS lo, max(id) AS hi, count() AS n FROM (SELECT id FROM crash_two GROUP BY id HAVING count() > 1)', '--json'], env)
      process.stderr.write(`DUPRANGE ${s.stdout}\n`)
    }
    expect(c).toEqual({ n: expected, ids: expected })
  })

  it('ClickHouse 18.16 server mode (no dedup tokens: origin column)', async () => {
    const ch = await startClickHouseServer()
    try {
      const file = path.join(tmp.dir, 'server.yaml')
      await writeFile(file, pipeline('crash_server', `url: "${ch.url}",`))
      const env = { ...process.env, NATS_URL: nats.url, TRIBUTARY_HOME: path.join(tmp.dir, 'home-server') }
      await crashLoop(file, env)
      expect(await counts({ ...env, CLICKHOUSE_URL: ch.url }, 'crash_server')).toEqual({ n: expected, ids: expected })
    } finally {
      await ch.stop()
    }
  })
})
