import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { jetstreamManager } from '@nats-io/jetstream'
import { TributaryError, errorMessage } from '../errors.js'
import { homePaths } from '../home/paths.js'
import { withFileLock } from './file-lock.js'
import { isNatsServerOn, terminate } from './process.js'
import { spawnNatsServer } from './spawn-server.js'
import { connectNats } from './connect.js'
import { sleep } from '../runtime/backoff.js'
import type { LogLike } from './types.js'

/**
 * `tributary up --cluster N`: N nats-servers with JetStream on loopback, routed into one cluster,
 * for trying a fleet and R3 streams on one machine. Each node has its own store and fixed ports (a
 * node restarted by `up --cluster` again keeps its URL); the state is `<natsDir>/cluster/cluster.json`.
 * Commands of the home find it before the single `up` server (core/nats/resolve.ts).
 */

export interface ClusterNode {
  name: string
  pid: number
  /** Client port. */
  port: number
  url: string
  /** Route port. */
  clusterPort: number
  store: string
}

export interface ClusterState {
  name: string
  nodes: ClusterNode[]
  startedAt: string
}

export interface ClusterStatus extends ClusterState {
  /** Nodes whose process runs. */
  running: string[]
  urls: string[]
}

const CLUSTER_NAME = 'tributary'

function clusterDir(home: string): string {
  return path.join(homePaths(home).natsDir, 'cluster')
}

async function readCluster(dir: string): Promise<ClusterState | undefined> {
  try {
    const s = JSON.parse(await readFile(path.join(dir, 'cluster.json'), 'utf8')) as ClusterState
    return Array.isArray(s.nodes) ? s : undefined
  } catch {
    return undefined
  }
}

async function writeCluster(dir: string, s: ClusterState): Promise<void> {
  const tmp = path.join(dir, `cluster.json.${process.pid}.tmp`)
  await writeFile(tmp, `${JSON.stringify(s, null, 2)}\n`)
  await rename(tmp, path.join(dir, 'cluster.json'))
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', reject)
    srv.listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = srv.address() as net.AddressInfo
      srv.close(() => resolve(port))
    })
  })
}

function statusOf(s: ClusterState): ClusterStatus {
  return { ...s, running: s.nodes.filter((n) => isNatsServerOn(n.pid, n.store)).map((n) => n.name), urls: s.nodes.map((n) => n.url) }
}

/** The home's cluster when at least one node runs (commands then connect to all its URLs). */
export async function runningCluster(home: string): Promise<ClusterStatus | undefined> {
  const s = await readCluster(clusterDir(home))
  if (!s) return undefined
  const st = statusOf(s)
  return st.running.length > 0 ? st : undefined
}

export async function clusterStatus(home: string): Promise<ClusterStatus | undefined> {
  const s = await readCluster(clusterDir(home))
  return s ? statusOf(s) : undefined
}

/**
 * Starts the cluster, or the nodes of it that are not running (after a crash or a kill), and
 * returns once its JetStream answers (a fresh cluster elects its meta leader first, FACTS: ~2.6 s).
 */
export async function startLocalCluster(home: string, opts: { size: number; log?: LogLike; readyTimeoutMs?: number }): Promise<ClusterStatus> {
  if (!Number.isInteger(opts.size) || opts.size < 3 || opts.size > 7) {
    throw new TributaryError('E_USAGE', `a local cluster needs 3 to 7 nodes (got ${opts.size})`, { hint: 'JetStream replication needs a majority: use --cluster 3 (R3 streams) or 5' })
  }
  const dir = clusterDir(home)
  await mkdir(dir, { recursive: true })
  const state = await withFileLock(path.join(dir, 'cluster.lock'), async () => {
    let s = await readCluster(dir)
    if (s && s.nodes.length !== opts.size) {
      throw new TributaryError('E_USAGE', `this home has a local cluster of ${s.nodes.length} nodes, not ${opts.size}`, { hint: `stop it with \`tributary down\`, or use --cluster ${s.nodes.length}` })
    }
    if (!s) {
      const nodes: ClusterNode[] = []
      for (let i = 1; i <= opts.size; i++) {
        const port = await freePort()
        nodes.push({ name: `n${i}`, pid: 0, port, url: `nats://127.0.0.1:${port}`, clusterPort: await freePort(), store: path.join(dir, `n${i}`, 'store') })
      }
      s = { name: CLUSTER_NAME, nodes, startedAt: new Date().toISOString() }
    }
    for (const n of s.nodes) {
      if (n.pid > 0 && isNatsServerOn(n.pid, n.store)) continue
      const routes = s.nodes.filter((o) => o !== n).map((o) => `nats://127.0.0.1:${o.clusterPort}`).join(',')
      const spawned = await spawnNatsServer({
        store: n.store,
        portsDir: path.join(dir, 'ports'),
        logFile: path.join(dir, `${n.name}.log`),
        port: n.port,
        detached: true,
        args: ['--server_name', n.name, '--cluster_name', s.name, '--cluster', `nats://127.0.0.1:${n.clusterPort}`, '--routes', routes],
      })
      n.pid = spawned.pid
      opts.log?.info({ node: n.name, pid: n.pid, url: n.url }, 'started cluster node')
      await writeCluster(dir, s)
    }
    return s
  })
  await waitForJetStream(state.nodes.map((n) => n.url), opts.readyTimeoutMs ?? 30_000)
  return statusOf(state)
}

async function waitForJetStream(servers: string[], timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs
  const nc = await connectNats({ servers }, { name: 'tributary up --cluster' })
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await (await jetstreamManager(nc, { timeout: 2000 })).getAccountInfo()
        return
      } catch (err) {
        if (Date.now() > end) throw new TributaryError('E_NATS_SERVER', `the local cluster's JetStream did not answer within ${timeoutMs} ms: ${errorMessage(err)}`, { hint: 'see the node logs next to cluster.json under <home>/nats/cluster' })
        await sleep(Math.min(1000, 100 * (attempt + 1)))
      }
    }
  } finally {
    await nc.close()
  }
}

/** Stops every node (SIGTERM, then SIGKILL) and forgets the cluster; the stores stay. */
export async function stopLocalCluster(home: string): Promise<{ stopped: string[] }> {
  const dir = clusterDir(home)
  const s = await readCluster(dir)
  if (!s) return { stopped: [] }
  return withFileLock(path.join(dir, 'cluster.lock'), async () => {
    const stopped: string[] = []
    for (const n of s.nodes) {
      if (n.pid > 0 && isNatsServerOn(n.pid, n.store)) {
        await terminate(n.pid)
        stopped.push(n.name)
      }
    }
    await rm(path.join(dir, 'cluster.json'), { force: true })
    return { stopped }
  })
}
