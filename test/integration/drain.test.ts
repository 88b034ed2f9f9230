import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { connect } from '@nats-io/transport-node'
import { jetstreamManager } from '@nats-io/jetstream'
import { startNatsServer } from '../helpers/nats-server.js'
import { makeTempDir } from '../helpers/tmp.js'
import { assertBuilt, runCli, spawnCli, waitFor, type Background } from '../helpers/cli.js'

let nats: Awaited<ReturnType<typeof startNatsServer>>
let tmp: Awaited<ReturnType<typeof makeTempDir>>
const children: Background[] = []

beforeAll(async () => {
  assertBuilt()
  ;[nats, tmp] = await Promise.all([startNatsServer(), makeTempDir('drain')])
})

afterAll(async () => {
  for (const c of children) c.child.kill('SIGKILL')
  await nats?.stop()
  await tmp?.remove()
})

describe('SIGTERM drains', () => {
  it('finishes in-flight batches, flushes, acks and exits 0; nothing is redelivered afterwards', async () => {
    await writeFile(path.join(tmp.dir, 'in.ndjson'), Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ id: i + 1 })).join('\n') + '\n')
    const file = path.join(tmp.dir, 'p.yaml')
    await writeFile(file, `name: drain
source: { use: file, config: { path: in.ndjson, follow: true, pollInterval: 100ms } }
sinks: [ { use: clickhouse, config: { table: drained, columns: { id: UInt64 }, batch: { rows: 50000, maxWait: 30s } } } ]
`)
    // A 30 s batch wait: at SIGTERM the sink still holds everything, so the drain must flush it.
    const env = { ...process.env, NATS_URL: nats.url, TRIBUTARY_HOME: path.join(tmp.dir, 'home') }
    const nc = await connect({ servers: nats.url })
    try {
      const jsm = await jetstreamManager(nc)
      const run = spawnCli(['run', file], env)
      children.push(run)
      await waitFor('all 20k records fetched and held', async () => {
        const info = await jsm.consumers.info('TRIB_DRAIN', 'drain--clickhouse').catch(() => undefined)
        return info !== undefined && info.num_pending === 0 && info.num_ack_pending === 20_000
      })
      run.child.kill('SIGTERM')
      expect(await run.exited).toBe(0)
      expect(run.stderr()).toMatch(/draining/)
      const info = await jsm.consumers.info('TRIB_DRAIN', 'drain--clickhouse')
      expect(info.num_ack_pending).toBe(0)
      expect(info.num_redelivered).toBe(0)
      expect(info.ack_floor.stream_seq).toBe(20_000)

      const q = await runCli(['query', 'SELECT count() AS n, uniqExact(id) AS ids FROM drained', '--json'], env)
      expect(JSON.parse(q.stdout)).toEqual([{ n: 20_000, ids: 20_000 }])
    } finally {
      await nc.close()
    }
  })
})
