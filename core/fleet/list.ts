import type { NatsConnection } from '@nats-io/nats-core'
import { openFleetStore } from './store.js'
import { openWorkersBucket, readWorkers } from './workers.js'
import { requireDeployment } from './lifecycle.js'
import type { DeploymentSummary, HistoryEntry, WorkerSummary } from './types.js'

/** `pipelines list`: the fleet's deployments, with how many live workers run each. */
export async function listDeployments(nc: NatsConnection, fleet: string): Promise<DeploymentSummary[]> {
  const store = await openFleetStore(nc, fleet, { create: false })
  if (!store) return []
  const workers = await listWorkers(nc, fleet)
  return (await store.deployments()).map((d) => ({
    name: d.name,
    fleet,
    revision: d.revision,
    state: d.state,
    workers: workers.filter((w) => w.state !== 'lost' && w.pipelines.some((p) => p.name === d.name && p.state !== 'stopped')).length,
    updatedAt: d.updatedAt,
    updatedBy: d.updatedBy,
  }))
}

/** `workers list`. */
export async function listWorkers(nc: NatsConnection, fleet: string): Promise<WorkerSummary[]> {
  const kv = await openWorkersBucket(nc, fleet, { create: false })
  return kv ? readWorkers(nc, kv, fleet) : []
}

/** `pipelines history`: every stored revision, oldest first. */
export async function pipelineHistory(nc: NatsConnection, fleet: string, name: string): Promise<HistoryEntry[]> {
  const { store, deployment } = await requireDeployment(nc, fleet, name)
  return (await store.revisions(name)).map((r) => ({
    revision: r.revision,
    deployedAt: r.deployedAt,
    deployedBy: r.deployedBy,
    file: r.file,
    summary: r.summary,
    ...(r.rollbackOf ? { rollbackOf: r.rollbackOf } : {}),
    current: r.revision === deployment.revision,
  }))
}
