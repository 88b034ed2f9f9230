import { hostname } from 'node:os'
import { jetstream } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/nats-core'
import { Kvm } from '@nats-io/kv'
import { TributaryError } from '../errors.js'
import { createLeases, parseLeaseRecord } from '../lease/leases.js'
import { kvLeaseStore, openLeaseBucket } from '../lease/kv-store.js'
import { leaseTiming } from '../lease/timing.js'
import type { Lease } from '../lease/types.js'
import { RUN_LEASES_BUCKET } from '../jetstream/names.js'
import { instanceId } from '../status/heartbeat.js'

export const RUN_LEASE_TTL_MS = 15_000

export interface RunLeaseOptions {
  replicas?: number
  ttlMs?: number
  onError?: (err: unknown) => void
  /** The holder's id (default: this process, `host-pid`); a test stands in for another process with it. */
  owner?: string
}

/**
 * One `run` process per pipeline: its groups read their durables alone (ack policy all, with the
 * in-order check of core/runtime/delivery-order.ts). A second `run` is refused while the holder
 * renews; a holder on this host whose process is gone (kill -9) is taken over at once, and one
 * elsewhere that stopped renewing is waited out (at most a TTL). Several processes sharing a
 * pipeline is what a fleet is for (explicit acks on shared durables).
 */
export async function holdRunLease(nc: NatsConnection, pipeline: string, opts: RunLeaseOptions = {}): Promise<Lease> {
  const bucket = await openLeaseBucket(jetstream(nc), RUN_LEASES_BUCKET, { ttlMs: opts.ttlMs ?? RUN_LEASE_TTL_MS, replicas: opts.replicas })
  const store = kvLeaseStore(bucket.kv)
  const timing = leaseTiming(bucket.ttlMs)
  const self = opts.owner ?? instanceId(hostname(), process.pid)
  const leases = createLeases(store, { owner: self, timing, onError: (_key, err) => opts.onError?.(err) })
  const deadline = Date.now() + timing.ttlMs + timing.pollMs
  for (;;) {
    const lease = await leases.tryAcquire(pipeline)
    if (lease) return lease
    const held = await store.get(pipeline)
    if (!held) continue // expired between the two calls
    const holder = parseLeaseRecord(held.value)
    // This process's own record: a lease it lost track of (a renewal answered too late under
    // load, then retaken) is still its own, not another run's.
    if (holder && (holder.owner === self || deadOnThisHost(holder.owner))) {
      await store.delete(pipeline, held.revision)
      continue
    }
    const silentMs = holder ? Date.now() - Date.parse(holder.renewedAt) : Infinity
    // A holder that missed two renewals is probably gone: its key expires within the TTL.
    if (silentMs > 2 * timing.renewEveryMs && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, timing.pollMs))
      continue
    }
    throw new TributaryError('E_RUNNING', `pipeline "${pipeline}" is already running in another process (${holder?.owner ?? 'unknown'}, since ${holder?.acquiredAt ?? '?'})`, {
      hint: 'stop that run first (Ctrl-C or SIGTERM drains it); to spread one pipeline over several processes, deploy it to a fleet (`tributary pipelines deploy`) and start workers',
    })
  }
}

/** An owner id (core/status/heartbeat.ts instanceId) of this host whose process no longer exists. */
export function deadOnThisHost(owner: string, host = hostname()): boolean {
  const prefix = instanceId(host, 0).slice(0, -1) // "<host>-"
  if (!owner.startsWith(prefix)) return false
  const pid = Number(owner.slice(prefix.length))
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false
  try {
    process.kill(pid, 0)
    return false
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

/** Who holds `pipeline`'s run lease now (a live `tributary run`), without creating the bucket. */
export async function runLeaseHolder(nc: NatsConnection, pipeline: string): Promise<{ owner: string; acquiredAt: string } | undefined> {
  let kv
  try {
    kv = await new Kvm(jetstream(nc)).open(RUN_LEASES_BUCKET)
  } catch {
    return undefined // no run has ever held a lease here
  }
  const e = await kv.get(pipeline).catch(() => null) // a bucket that does not exist (yet) holds no lease
  if (!e || e.operation !== 'PUT') return undefined
  const holder = parseLeaseRecord(e.string())
  return holder && !deadOnThisHost(holder.owner) ? holder : undefined
}
