import { jetstream, jetstreamManager, JetStreamApiCodes, JetStreamApiError, type JetStreamManager } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/nats-core'
import { TributaryError } from '../errors.js'
import { stateBucket, streamName } from '../jetstream/names.js'
import { kvLeaseStore, openLeaseBucket } from '../lease/kv-store.js'
import { leaseKey, leasesBucket } from './names.js'
import { openFleetStore } from './store.js'
import { waitUntilDrained } from './lifecycle.js'

export interface RemoveResult {
  fleet: string
  pipeline: string
  /** It was deployed in the fleet (and is not any more). */
  removed: boolean
  /** With --purge: the stream (data, DLQ, consumers) and the state bucket (positions, stage state) deleted. */
  purged?: { stream: boolean; state: boolean }
}

async function deleteStream(jsm: JetStreamManager, name: string): Promise<boolean> {
  try {
    return await jsm.streams.delete(name)
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return false
    throw err
  }
}

/**
 * `pipelines remove`: deletes the deployment and its revisions (workers drain it and stop), waits
 * for the drain, and frees its leases. The stream and the state bucket stay — history to replay,
 * dead letters, saved positions for a redeploy — unless `purge`, which deletes them once no worker
 * runs the pipeline any more.
 */
export async function removePipeline(nc: NatsConnection, fleet: string, name: string, opts: { purge: boolean; timeoutMs: number }): Promise<RemoveResult> {
  const store = await openFleetStore(nc, fleet, { create: false })
  const deployed = (await store?.deployment(name)) !== undefined
  if (!deployed && !opts.purge) {
    throw new TributaryError('E_FLEET', `pipeline ${name} is not deployed in fleet ${fleet}`, { hint: `see \`tributary pipelines list --fleet ${fleet}\`; --purge deletes its stream and state even when it is not deployed` })
  }
  if (deployed) await store!.removeDeployment(name)
  const left = await waitUntilDrained(nc, fleet, name, opts.timeoutMs)
  if (left.length > 0) {
    throw new TributaryError('E_FLEET', `pipeline ${name} was removed from fleet ${fleet}, but worker${left.length === 1 ? '' : 's'} ${left.join(', ')} still drain${left.length === 1 ? 's' : ''} it`, {
      hint: opts.purge ? `nothing was purged: run \`tributary pipelines remove ${name} --purge\` again once they are done` : 'they stop once their in-flight batches are written',
    })
  }
  // Workers release their leases when they stop; a lost worker's lease would expire by itself.
  const js = jetstream(nc)
  const jsm = await jetstreamManager(nc)
  if (await jsm.streams.info(`KV_${leasesBucket(fleet)}`).then(() => true, () => false)) {
    const leases = kvLeaseStore((await openLeaseBucket(js, leasesBucket(fleet), { ttlMs: 1 })).kv)
    for (const part of ['source', 'stateful'] as const) {
      const held = await leases.get(leaseKey(name, part))
      if (held) await leases.delete(leaseKey(name, part), held.revision)
    }
  }
  const result: RemoveResult = { fleet, pipeline: name, removed: deployed }
  if (opts.purge) {
    result.purged = { stream: await deleteStream(jsm, streamName(name)), state: await deleteStream(jsm, `KV_${stateBucket(name)}`) }
  }
  return result
}
