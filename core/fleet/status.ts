import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/nats-core'
import { streamName } from '../jetstream/names.js'
import { getStream } from '../jetstream/stream.js'
import { listPipelines, readPipelineStatus } from '../status/read-status.js'
import type { DeploymentStatus, PipelineStatus } from '../status/types.js'
import { checkPipelineName } from '../dlq/pipeline-stream.js'
import { Kvm } from '@nats-io/kv'
import { kvLeaseStore } from '../lease/kv-store.js'
import { leasePart, leasesBucket } from './names.js'
import { kvKeys } from '../jetstream/kv-keys.js'
import { openFleetStore, type FleetStore } from './store.js'
import { openWorkersBucket, readWorkers } from './workers.js'
import type { PipelineDeployment, WorkerSummary } from './types.js'

/**
 * `pipelines status` for run and deployed pipelines alike: the runtimes' status documents and the
 * server's view of stream and durables (core/status) — for a deployed pipeline, also before its
 * stream exists — plus, when the fleet deploys it, the desired revision and state, each worker's
 * part (from its heartbeat) and the lease holders.
 */
export async function readFleetStatus(nc: NatsConnection, fleet: string, name: string, where: string): Promise<PipelineStatus> {
  checkPipelineName(name)
  const store = await openFleetStore(nc, fleet, { create: false })
  const deployment = await store?.deployment(name)
  if (!deployment) return readPipelineStatus(nc, name, where)
  return deployedStatus(nc, fleet, deployment, await fleetWorkers(nc, fleet), where)
}

/** Every pipeline on the server and every pipeline the fleet deploys. */
export async function readAllFleetStatuses(nc: NatsConnection, fleet: string, where: string): Promise<PipelineStatus[]> {
  const jsm = await jetstreamManager(nc)
  const store: FleetStore | undefined = await openFleetStore(nc, fleet, { create: false })
  const deployed = new Map((await store?.deployments())?.map((d) => [d.name, d]) ?? [])
  const workers = deployed.size ? await fleetWorkers(nc, fleet) : []
  const names = [...new Set([...(await listPipelines(jsm)), ...deployed.keys()])].sort()
  const out: PipelineStatus[] = []
  for (const n of names) {
    const d = deployed.get(n)
    out.push(d ? await deployedStatus(nc, fleet, d, workers, where) : await readPipelineStatus(nc, n, where))
  }
  return out
}

async function fleetWorkers(nc: NatsConnection, fleet: string): Promise<WorkerSummary[]> {
  const kv = await openWorkersBucket(nc, fleet, { create: false })
  return kv ? readWorkers(nc, kv, fleet) : []
}

async function deployedStatus(nc: NatsConnection, fleet: string, d: PipelineDeployment, workers: WorkerSummary[], where: string): Promise<PipelineStatus> {
  const jsm = await jetstreamManager(nc)
  const base: PipelineStatus = (await getStream(jsm, streamName(d.name)))
    ? await readPipelineStatus(nc, d.name, where)
    : { pipeline: d.name, mode: 'deployed', state: 'pending', runtimes: [], stages: [], consumers: [] }
  const parts = workers.flatMap((w) =>
    w.pipelines
      .filter((p) => p.name === d.name)
      .map((p) => ({ worker: w.id, host: w.host, alive: w.state !== 'lost', revision: p.revision, state: p.state, runs: p.runs, ...(p.error ? { error: p.error } : {}) })),
  )
  const deployment: DeploymentStatus = { fleet, revision: d.revision, desired: d.state, updatedAt: d.updatedAt, updatedBy: d.updatedBy, workers: parts, leases: await leaseHolders(nc, fleet, d.name) }
  const live = parts.filter((p) => p.alive)
  const active = live.filter((p) => p.state === 'starting' || p.state === 'running' || p.state === 'draining')
  let state: PipelineStatus['state']
  if (d.state === 'stopped') state = active.length ? 'stopping' : 'stopped'
  else if (live.some((p) => p.state === 'running')) state = 'running'
  else if (live.length && live.every((p) => p.state === 'failed')) state = 'failed'
  else state = 'pending'
  const workerError = live.find((p) => p.error)
  const lastError = base.lastError ?? (workerError ? { message: `worker ${workerError.worker}: ${workerError.error}`, at: d.updatedAt } : undefined)
  return { ...base, mode: 'deployed', state, deployment, ...(lastError ? { lastError } : {}) }
}

/** Who holds each of the pipeline's leases: `source`, `stateful`, and each key partition `stateful.<stage>.p<i>`. */
async function leaseHolders(nc: NatsConnection, fleet: string, name: string): Promise<Record<string, string>> {
  const js = jetstream(nc)
  const jsm = await jetstreamManager(nc)
  const exists = await jsm.streams.info(`KV_${leasesBucket(fleet)}`).then(() => true, () => false)
  if (!exists) return {}
  const store = kvLeaseStore(await new Kvm(js).open(leasesBucket(fleet)))
  const out: Record<string, string> = {}
  // One stream-info request lists the keys (kv.keys() was seen to hang on busy buckets).
  const keys = await kvKeys(jsm, leasesBucket(fleet), `${name}.>`)
  for (const key of keys.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))) {
    const e = await store.get(key)
    if (!e) continue
    try {
      out[leasePart(name, key)] = (JSON.parse(e.value) as { owner: string }).owner
    } catch {
      // unreadable: skipped
    }
  }
  return out
}
