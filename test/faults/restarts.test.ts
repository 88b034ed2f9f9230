import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { startNatsServer } from '../helpers/nats-server.js'
import { startClickHouseServer } from '../helpers/clickhouse-server.js'
import { makeTempDir } from '../helpers/tmp.js'
import { assertBuilt, runCli, spawnCli, waitFor, type Background } from '../helpers/cli.js'

// Servers restarted under a running pipeline: nats-server (kill -9, same store) and ClickHouse
// (stopped, then back). The run finishes with every record exactly once.
const RECORDS = 150_000
let tmp: Awaited<ReturnType<typeof makeTempDir>>
const children: Background[] = []
let expected = 0

beforeAll(async () => {
  assertBuilt()
  tmp = await makeTempDir('restarts')
  let text = ''
  for (let i = 1; i <= RECORDS; i++) {
    const value = (i * 7919) % 1000
    text += `${JSON.stringify({ id: i, value, pad: 'y'.repeat(40) })}\n`
    if (value >= 100) expected++
  }
  await writeFile(path.join(tmp.dir, 'in.ndjson'), text)
})

afterAll(async () => {
  for (const c of children) c.child.kill('SIGKILL')
  await tmp?.remove()
})

const pipeline = (name: string, sink = ''): string => `name: ${name}
source: { use: file, config: { path: in.ndjson, batchSize: 2000 } }
transforms: [ { use: filter, config: { where: "value >= 100" } } ]
sinks:
  - use: clickhouse
    config: { table: ${name}, columns: { id: UInt64, value: UInt32 }, orderBy: [id], ${sink} batch: { rows: 5000, maxWait: 300ms } }
delivery: { ackWait: 5s }
`

describe('servers restarted mid-stream', () => {
  it('nats-server killed and restarted: 0 lost, 0 duplicated', async () => {
    const nats = await startNatsServer()
    try {
      const file = path.join(tmp.dir, 'nats.yaml')
      await writeFile(file, pipeline('nats_restart'))
      const env = { ...process.env, NATS_URL: nats.url, TRIBUTARY_HOME: path.join(tmp.dir, 'home-nats') }
      const run = spawnCli(['run', file], env)
      children.push(run)
      await waitFor('the pipeline to run', () => /pipeline running/.test(run.stderr()))
      await new Promise((r) => setTimeout(r, 1500)) // the fault's moment, not a synchronisation
      await nats.restart()
      expect(await run.exited, run.stderr().slice(-3000)).toBe(0)
      const q = await runCli(['query', 'SELECT count() AS n, uniqExact(id) AS ids FROM nats_restart', '--json'], env)
      expect(JSON.parse(q.stdout)).toEqual([{ n: expected, ids: expected }])
    } finally {
      await nats.stop()
    }
  })

  it('ClickHouse server stopped and restarted: the sink waits, then every record lands once', async () => {
    const [nats, ch] = await Promise.all([startNatsServer(), startClickHouseServer()])
    try {
      const file = path.join(tmp.dir, 'ch.yaml')
      await writeFile(file, pipeline('ch_restart', `url: "${ch.url}",`))
      const env = { ...process.env, NATS_URL: nats.url, TRIBUTARY_HOME: path.join(tmp.dir, 'home-ch') }
      const run = spawnCli(['run', file], env)
      children.push(run)
      await waitFor('the pipeline to run', () => /pipeline running/.test(run.stderr()))
      await new Promise((r) => setTimeout(r, 1500)) // the fault's moment
      await ch.kill9()
      await new Promise((r) => setTimeout(r, 3000)) // ClickHouse down for a while
      await ch.restart()
      expect(await run.exited, run.stderr().slice(-3000)).toBe(0)
      expect(run.stderr()).toMatch(/sink write failed; retrying/)
      const q = await runCli(['query', 'SELECT count() AS n, uniqExact(id) AS ids FROM ch_restart', '--json'], { ...env, CLICKHOUSE_URL: ch.url })
      expect(JSON.parse(q.stdout)).toEqual([{ n: expected, ids: expected }])
    } finally {
      await Promise.all([nats.stop(), ch.stop()])
    }
  })
})
