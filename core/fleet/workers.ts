import { jetstream, jetstreamManager, JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream'
import { Kvm, type KV } from '@nats-io/kv'
import type { NatsConnection } from '@nats-io/nats-core'
import { workersBucket } from './names.js'
import { FLEET_API_TIMEOUT_MS } from './api-timeout.js'
import { kvKeys } from '../jetstream/kv-keys.js'
import { waitUntilServing } from './bucket-ready.js'
import { fleetReplicas } from './replicas.js'
import type { WorkerDoc, WorkerSummary } from './types.js'

/** A worker whose heartbeat is this many periods late is `lost`. */
const MISSED_HEARTBEATS = 3
/** The bucket's max_age: a lost worker's entry disappears after this. */
const FORGET_AFTER_MS = 120_000

/** The fleet's heartbeat bucket; `create: false` returns undefined when no worker ever ran. */
export async function openWorkersBucket(nc: NatsConnection, fleet: string, opts: { create: boolean }): Promise<KV | undefined> {
  const bucket = workersBucket(fleet)
  if (!opts.create) {
    try {
      await (await jetstreamManager(nc, { timeout: FLEET_API_TIMEOUT_MS })).streams.info(`KV_${bucket}`)
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return undefined
      throw err
    }
  }
  const kv = await new Kvm(jetstream(nc, { timeout: FLEET_API_TIMEOUT_MS })).create(bucket, { history: 1, ttl: FORGET_AFTER_MS, replicas: fleetReplicas(nc), allow_direct: false })
  await waitUntilServing(nc, `KV_${bucket}`)
  return kv
}

export async function writeWorker(kv: KV, doc: WorkerDoc): Promise<void> {
  await kv.put(doc.id, JSON.stringify(doc))
}

export async function forgetWorker(kv: KV, id: string): Promise<void> {
  await kv.purge(id)
}

/** Every worker that sent a heartbeat in the last two minutes, by id. */
export async function readWorkers(nc: NatsConnection, kv: KV, fleet: string, now = Date.now()): Promise<WorkerSummary[]> {
  const out: WorkerSummary[] = []
  for (const k of await kvKeys(await jetstreamManager(nc), workersBucket(fleet))) {
    const e = await kv.get(k)
    if (!e || e.operation !== 'PUT' || e.length === 0) continue
    let d: WorkerDoc
    try {
      d = e.json<WorkerDoc>()
    } catch {
      continue // another version's document
    }
    const { version: _v, state, ...rest } = d
    const silent = now - Date.parse(d.updatedAt) > MISSED_HEARTBEATS * d.intervalMs
    out.push({ ...rest, state: silent ? 'lost' : state })
  }
  return out
}
