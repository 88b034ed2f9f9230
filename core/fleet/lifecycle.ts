import type { NatsConnection } from '@nats-io/nats-core'
import { TributaryError } from '../errors.js'
import { sleep } from '../runtime/backoff.js'
import { openFleetStore, type FleetStore } from './store.js'
import { openWorkersBucket, readWorkers } from './workers.js'
import { whoAmI } from './identity.js'
import type { DesiredState, PipelineDeployment } from './types.js'

/** The fleet's deployments bucket, or a clear error when the pipeline is not deployed there. */
export async function requireDeployment(nc: NatsConnection, fleet: string, name: string): Promise<{ store: FleetStore; deployment: PipelineDeployment }> {
  const store = await openFleetStore(nc, fleet, { create: false })
  const deployment = await store?.deployment(name)
  if (!store || !deployment) {
    throw new TributaryError('E_FLEET', `pipeline ${name} is not deployed in fleet ${fleet}`, { hint: `see \`tributary pipelines list --fleet ${fleet}\`; deploy it with \`tributary pipelines deploy <file>\`` })
  }
  return { store, deployment }
}

/** `pipelines stop` / `start`: the desired state in KV; workers drain or resume on seeing it. */
export async function setDesiredState(nc: NatsConnection, fleet: string, name: string, state: DesiredState): Promise<{ deployment: PipelineDeployment; changed: boolean }> {
  const { store, deployment } = await requireDeployment(nc, fleet, name)
  if (deployment.state === state) return { deployment, changed: false }
  const by = whoAmI()
  const next = await store.updateDeployment(name, (cur) => ({ ...(cur ?? deployment), state, updatedAt: new Date().toISOString(), updatedBy: by }))
  return { deployment: next, changed: true }
}

/** Live workers that still run (or start, or drain) some part of the pipeline. */
export async function workersRunning(nc: NatsConnection, fleet: string, name: string): Promise<string[]> {
  const kv = await openWorkersBucket(nc, fleet, { create: false })
  if (!kv) return []
  return (await readWorkers(nc, kv, fleet))
    .filter((w) => w.state !== 'lost' && w.pipelines.some((p) => p.name === name && (p.state === 'starting' || p.state === 'running' || p.state === 'draining')))
    .map((w) => w.id)
}

/**
 * Waits until no live worker runs the pipeline (every one drained it: in-flight batches written,
 * acked). Workers that stopped sending heartbeats do not count: their leases expire on their own.
 * Returns the workers still at it when the time ran out (empty: all drained).
 */
export async function waitUntilDrained(nc: NatsConnection, fleet: string, name: string, timeoutMs: number): Promise<string[]> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const left = await workersRunning(nc, fleet, name)
    if (left.length === 0 || Date.now() >= end) return left
    await sleep(250)
  }
}
