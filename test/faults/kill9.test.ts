import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { startNatsServer } from '../helpers/nats-server.js'
import { startClickHouseServer } from '../helpers/clickhouse-server.js'
import { makeTempDir } from '../helpers/tmp.js'
import { assertBuilt, runCli, spawnCli, waitFor, type Background } from '../helpers/cli.js'

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

/**
 * kill -9 at a random moment, REPEATS times, then a run to the end. With `contender`, each round
 * also starts a second `run` of the same pipeline once the first runs: it must be refused (one
 * `run` per pipeline: its groups own their durables), and the next round's run takes the lease
 * of the killed one at once (same host, its process gone).
 */
async function crashLoop(file: string, env: NodeJS.ProcessEnv, contender = false): Promise<void> {
  let refused = 0
  for (let round = 0; round < REPEATS; round++) {
    const run = spawnCli(['run', file], env)
    children.push(run)
    if (contender) {
      await waitFor('the run to start', () => run.stderr().includes('pipeline running'), 60_000)
      let firstEnded = false
      void run.exited.then(() => (firstEnded = true))
      const second = await runCli(['run', file], env)
      // A first run that finished its input before the second one asked leaves it free to run.
      if (!firstEnded) {
        expect(second.code, second.stderr).not.toBe(0)
        expect(second.stderr).toMatch(/is already running in another process/)
        refused++
      }
    }
    // The fault: a random moment in the run (this wait injects the crash; nothing is asserted on time).
    await new Promise((r) => setTimeout(r, 1200 + Math.random() * 2500))
    run.child.kill('SIGKILL')
    await run.exited
  }
  // The first round has the whole input left: its run is still going when the second asks.
  if (contender) expect(refused).toBeGreaterThanOrEqual(1)
  const final = await runCli(['run', file], env, 300_000)
  expect(final.code, final.stderr).toBe(0)
  if (process.env.TRIB_FAULT_VERBOSE) process.stderr.write(final.stderr)
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

  it('embedded ClickHouse, a second run of the same pipeline refused while the first runs', async () => {
    const file = path.join(tmp.dir, 'two.yaml')
    await writeFile(file, pipeline('crash_two', ''))
    const env = { ...process.env, NATS_URL: nats.url, TRIBUTARY_HOME: path.join(tmp.dir, 'home-two') }
    await crashLoop(file, env, true)
    expect(await counts(env, 'crash_two')).toEqual({ n: expected, ids: expected })
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
