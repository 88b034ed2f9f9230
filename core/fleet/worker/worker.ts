import { hostname } from 'node:os'
import { jetstream } from '@nats-io/jetstream'
import { Kvm, type KV } from '@nats-io/kv'
import type { NatsConnection } from '@nats-io/nats-core'
import type { ClickHouse, ClickHouseConnectionOptions } from '../../plugin-api.js'
import type { PluginRegistry } from '../../plugins/types.js'
import type { Logger } from '../../log/logger.js'
import { errorMessage } from '../../errors.js'
import { instanceId } from '../../status/heartbeat.js'
import { tributaryInstall } from '../../app/tributary-install.js'
import { createLeases } from '../../lease/leases.js'
import { kvLeaseStore, openLeaseBucket } from '../../lease/kv-store.js'
import { leaseTiming } from '../../lease/timing.js'
import { sleep } from '../../runtime/backoff.js'
import { leasesBucket } from '../names.js'
import { FLEET_API_TIMEOUT_MS } from '../api-timeout.js'
import { waitUntilServing } from '../bucket-ready.js'
import { fleetReplicas } from '../replicas.js'
import { openFleetStore, type FleetStore } from '../store.js'
import { forgetWorker, openWorkersBucket, readWorkers, writeWorker } from '../workers.js'
import type { PipelineDeployment, WorkerDoc, WorkerSummary } from '../types.js'
import { Assignment } from './assignment.js'

export interface WorkerOptions {
  fleet: string
  /** The worker's connection (NATS_URL / --nats): fleet buckets, and pipelines without a `nats` block. */
  nc: NatsConnection
  registry: PluginRegistry
  logger: Logger
  /** Resolves the pipelines' `${env:…}` references. */
  env: NodeJS.ProcessEnv
  openClickHouse(opts: ClickHouseConnectionOptions): Promise<ClickHouse>
  /** Default `<host>-<pid>`. */
  id?: string
  heartbeatMs?: number
  /** TTL of the fleet's leases when this worker creates the lease bucket (an existing bucket keeps its own). */
  leaseTtlMs?: number
  /** Re-read every deployment this often, besides reacting to the bucket's changes at once. */
  resyncMs?: number
}

export interface Worker {
  readonly id: string
  /** Resolves once the worker stopped (after stop(), or a fatal error). */
  readonly done: Promise<void>
  /** Drains every pipeline, releases leases, removes the heartbeat. */
  stop(): void
}

export const DEFAULT_LEASE_TTL_MS = 15_000
export const DEFAULT_HEARTBEAT_MS = 2_000

/**
 * `tributary worker`: watches the fleet's deployments bucket and makes this process run its share
 * of every deployed pipeline — reacting to deploys (drain the old revision, start the new one),
 * stops and removals without a restart — and sends a heartbeat with what it runs.
 */
export async function startWorker(o: WorkerOptions): Promise<Worker> {
  const id = o.id ?? instanceId(hostname(), process.pid)
  const heartbeatMs = o.heartbeatMs ?? DEFAULT_HEARTBEAT_MS
  const log = o.logger.child({ fleet: o.fleet, worker: id })
  const store = (await openFleetStore(o.nc, o.fleet, { create: true }))!
  const workersKv = (await openWorkersBucket(o.nc, o.fleet, { create: true }))!
  const leaseBucket = await openLeaseBucket(jetstream(o.nc, { timeout: FLEET_API_TIMEOUT_MS }), leasesBucket(o.fleet), { ttlMs: o.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS, replicas: fleetReplicas(o.nc) })
  // Created with a long API timeout (a young cluster); renewed with the default one, well under the TTL.
  const leaseKv = await new Kvm(jetstream(o.nc)).open(leasesBucket(o.fleet))
  await waitUntilServing(o.nc, `KV_${leasesBucket(o.fleet)}`)
  const leases = createLeases(kvLeaseStore(leaseKv), {
    owner: id,
    timing: leaseTiming(leaseBucket.ttlMs),
    onError: (key, err) => log.warn({ lease: key, err: errorMessage(err) }, 'lease renewal or acquisition failed; retrying'),
  })
  const stopping = new AbortController()
  const assignments = new Map<string, Assignment>()
  const startedAt = new Date().toISOString()
  const version = tributaryInstall().version
  log.info({ leaseTtlMs: leaseBucket.ttlMs, heartbeatMs }, 'worker started')

  // Heartbeats: on a timer, and at once when something changed (stop waits on them).
  let beating: Promise<void> | undefined
  let beatAgain = false
  const beat = (): void => {
    if (beating) {
      beatAgain = true
      return
    }
    beating = (async () => {
      do {
        beatAgain = false
        const doc: WorkerDoc = {
          version: 1,
          id,
          fleet: o.fleet,
          host: hostname(),
          pid: process.pid,
          tributaryVersion: version,
          state: stopping.signal.aborted ? 'stopping' : 'running',
          startedAt,
          updatedAt: new Date().toISOString(),
          intervalMs: heartbeatMs,
          pipelines: [...assignments.values()].map((a) => a.report()),
        }
        await writeWorker(workersKv, doc).catch((err: unknown) => log.debug({ err: errorMessage(err) }, 'heartbeat failed'))
      } while (beatAgain)
    })().finally(() => (beating = undefined))
  }
  const heartbeat = setInterval(beat, heartbeatMs)

  const live = liveWorkerCounter(o.nc, workersKv, o.fleet, id)
  const deps = { fleet: o.fleet, workerId: id, nc: o.nc, registry: o.registry, leases, env: o.env, logger: log, statusIntervalMs: heartbeatMs, openClickHouse: o.openClickHouse, onChange: beat, liveWorkers: live }

  /** Brings one pipeline to what the bucket says; transitions of different pipelines run side by side. */
  const transitions = new Map<string, Promise<void>>()
  const converge = (name: string, want: PipelineDeployment | undefined): Promise<void> => {
    const prev = transitions.get(name) ?? Promise.resolve()
    const next = prev.then(async () => {
      const have = assignments.get(name)
      const runWanted = want?.state === 'running' && !stopping.signal.aborted
      if (have && (!runWanted || have.revision !== want.revision)) {
        log.info({ pipeline: name, revision: have.revision, reason: !want ? 'removed' : want.state === 'stopped' ? 'stopped' : `revision ${want.revision} deployed` }, 'draining pipeline')
        await have.stop()
        assignments.delete(name)
        beat()
      }
      if (runWanted && !assignments.has(name)) {
        const rev = await store.revision(name, want.revision)
        if (!rev) return log.warn({ pipeline: name, revision: want.revision }, 'deployed revision not found in the fleet bucket; waiting for the next change')
        const a = new Assignment(rev, deps)
        assignments.set(name, a)
        log.info({ pipeline: name, revision: rev.revision }, 'starting pipeline')
        a.start()
        beat()
      }
    })
    const settled = next.catch((err: unknown) => log.error({ pipeline: name, err: errorMessage(err) }, 'could not apply the deployment'))
    transitions.set(name, settled)
    return settled
  }

  const resync = async (s: FleetStore): Promise<void> => {
    const wanted = new Map((await s.deployments()).map((d) => [d.name, d]))
    // Not awaited: one pipeline's slow drain must not hold the others' transitions (each chains its own).
    for (const n of new Set([...wanted.keys(), ...assignments.keys()])) void converge(n, wanted.get(n))
  }

  // React to every change of `pipelines.*` at once (a watch starts with the current values);
  // a watch that ends (NATS gone for long) is opened again, and a resync now and then covers gaps.
  let watcher: Awaited<ReturnType<typeof store.kv.watch>> | undefined
  const watching = (async () => {
    while (!stopping.signal.aborted) {
      try {
        watcher = await store.kv.watch({ key: 'pipelines.*' })
        if (stopping.signal.aborted) watcher.stop()
        for await (const e of watcher) {
          const name = e.key.slice('pipelines.'.length)
          const doc = e.operation === 'PUT' && e.length > 0 ? e.json<PipelineDeployment>() : undefined
          void converge(name, doc)
        }
      } catch (err) {
        log.warn({ err: errorMessage(err) }, 'deployment watch failed; watching again')
      }
      await sleep(1000, stopping.signal)
    }
  })()
  const resyncing = (async () => {
    while (!stopping.signal.aborted) {
      await sleep(o.resyncMs ?? 10_000, stopping.signal)
      if (!stopping.signal.aborted) await resync(store).catch((err: unknown) => log.warn({ err: errorMessage(err) }, 'resync failed'))
    }
  })()
  beat()

  const done = (async () => {
    await new Promise<void>((resolve) => stopping.signal.addEventListener('abort', () => resolve(), { once: true }))
    log.info({ pipelines: assignments.size }, 'worker stopping: draining every pipeline')
    watcher?.stop()
    beat()
    await Promise.all([...assignments.keys()].map((n) => converge(n, undefined)))
    await Promise.all([watching, resyncing])
    clearInterval(heartbeat)
    await beating
    await leases.close()
    await forgetWorker(workersKv, id).catch(() => undefined)
    log.info('worker stopped')
  })()

  return {
    id,
    done,
    stop() {
      stopping.abort()
    },
  }
}

/**
 * How many workers run a pipeline now, this one included: heartbeats that are not late, from
 * workers not stopping, that do not report the pipeline failed or winding down (a worker that
 * has not listed it yet is about to start it: every worker runs every deployed pipeline). Read at
 * most once a second (every key partition of every pipeline asks).
 */
function liveWorkerCounter(nc: NatsConnection, kv: KV, fleet: string, self: string): (pipeline: string) => Promise<number> {
  let cached: { at: number; workers: Promise<WorkerSummary[]> } | undefined
  return async (pipeline) => {
    if (!cached || Date.now() - cached.at > 1000) {
      const workers = readWorkers(nc, kv, fleet)
      cached = { at: Date.now(), workers }
      workers.catch(() => (cached = undefined))
    }
    const out = (w: WorkerSummary): boolean => w.pipelines.some((p) => p.name === pipeline && (p.state === 'failed' || p.state === 'draining' || p.state === 'stopped'))
    const ids = new Set((await cached.workers).filter((w) => w.state === 'running' && !out(w)).map((w) => w.id))
    ids.add(self)
    return ids.size
  }
}
