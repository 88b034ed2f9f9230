import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { jetstreamManager } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/nats-core'
import { clickhouseServerSkipReason, startClickHouseServer } from '../helpers/clickhouse-server.js'
import { makeTempDir } from '../helpers/tmp.js'
import { assertBuilt, runCli } from '../helpers/cli.js'
import { cli, clickhouse, counts, startWorkerProcess, waitFor, waitForRows, type WorkerProcess } from '../helpers/fleet.js'
import { connectNats } from '../../core/nats/connect.js'
import { isAlive } from '../../core/nats/process.js'
import type { ClusterStatus } from '../../core/nats/local-cluster.js'
import type { ClickHouse } from '../../core/plugin-api.js'

// `up --cluster 3`: three nats-servers on loopback. A pipeline with R3 streams runs on two workers;
// the stream's leader is killed mid-stream: publishing stalls during the election (FACTS: 4-9 s),
// retries reuse the message ids, and nothing is lost or written twice.
let ch: Awaited<ReturnType<typeof startClickHouseServer>>
let tmp: Awaited<ReturnType<typeof makeTempDir>>
let clusterEnv: NodeJS.ProcessEnv
let cluster: ClusterStatus
let nc: NatsConnection
let db: ClickHouse
const workers: WorkerProcess[] = []

describe.skipIf(clickhouseServerSkipReason() !== undefined)('a 3-node nats cluster on loopback', () => {
  beforeAll(async () => {
    assertBuilt()
    ;[ch, tmp] = await Promise.all([startClickHouseServer(), makeTempDir('cluster')])
    clusterEnv = { ...process.env, TRIBUTARY_HOME: path.join(tmp.dir, 'cluster-home') }
    delete clusterEnv.NATS_URL
    cluster = JSON.parse((await cli(['up', '--cluster', '3', '--json'], clusterEnv)).stdout) as ClusterStatus
    nc = await connectNats({ servers: cluster.urls })
    db = await clickhouse(ch.url, path.join(tmp.dir, 'test-home'))
  })

  afterAll(async () => {
    for (const w of workers) await w.kill9().catch(() => undefined)
    await nc?.close()
    await db?.close()
    if (clusterEnv) await runCli(['down'], clusterEnv)
    await ch?.stop()
    await tmp?.remove()
  })

  it('`up --cluster 3` runs three routed nodes, and commands of the home find them', async () => {
    expect(cluster.nodes.map((n) => n.name)).toEqual(['n1', 'n2', 'n3'])
    expect(cluster.running).toEqual(['n1', 'n2', 'n3'])
    const st = JSON.parse((await cli(['up', '--status', '--json'], clusterEnv)).stdout) as { cluster: ClusterStatus }
    expect(st.cluster.urls).toEqual(cluster.urls)
    expect(nc.info?.cluster).toBe('tributary')
  })

  it('R3 stream, its leader killed mid-stream: 0 lost, 0 duplicated', async () => {
    const N = 30_000
    const env = { ...process.env, NATS_URL: cluster.urls.join(','), TRIBUTARY_HOME: path.join(tmp.dir, 'homes'), TEST_CH_URL: ch.url }
    workers.push(startWorkerProcess('c1', env), startWorkerProcess('c2', env))
    const file = path.join(tmp.dir, 'rthree.yaml')
    await writeFile(file, `name: rthree
replicas: 3
source: { use: generate, config: { template: { id: "i" }, count: ${N}, rate: 2500, batchSize: 250 } }
sinks:
  - use: clickhouse
    config: { url: "\${env:TEST_CH_URL}", table: rthree, columns: { id: UInt64 }, orderBy: [id], batch: { rows: 1000, maxWait: 200ms } }
delivery: { ackWait: 5s }
`)
    await cli(['pipelines', 'deploy', file], env)
    await waitFor('records flowing', async () => (await counts(db, 'rthree').catch(() => ({ n: 0 }))).n >= 5000, 120_000)

    const jsm = await jetstreamManager(nc)
    const info = await jsm.streams.info('TRIB_RTHREE')
    expect(info.config.num_replicas).toBe(3)
    expect((await jsm.streams.info('KV_trib-fleet-default')).config.num_replicas).toBe(3)
    const leader = info.cluster!.leader!
    const node = cluster.nodes.find((n) => n.name === leader)!
    process.kill(node.pid, 'SIGKILL')
    await waitFor('the leader process gone', () => !isAlive(node.pid))
    await waitFor('a new stream leader', async () => {
      const i = await jsm.streams.info('TRIB_RTHREE').catch(() => undefined)
      return i?.cluster?.leader !== undefined && i.cluster.leader !== leader
    }, 60_000)

    await waitForRows(db, 'rthree', N, 180_000)
    expect(await counts(db, 'rthree')).toEqual({ n: N, ids: N })
    // Retries after the election reused their message ids: the stream holds each record once.
    expect((await jsm.streams.info('TRIB_RTHREE')).state.messages).toBe(N)
  })
})
