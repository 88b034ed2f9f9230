import { JetStreamApiCodes, JetStreamApiError, type JetStreamClient } from '@nats-io/jetstream'
import { Kvm, type KV } from '@nats-io/kv'
import type { LeaseStore } from './types.js'
import { bucketKeys } from '../jetstream/kv-keys.js'

/** The bucket's own answer to a compare-and-set that lost: someone else wrote the key first. */
function lostRace(err: unknown): boolean {
  return err instanceof JetStreamApiError && (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
}

/**
 * A lease bucket: `max_age` is the lease TTL (FACTS: per-key TTL is ignored on 2.9, and an
 * expired key leaves no tombstone, so `create` works again at once). The TTL is the bucket's: an
 * existing bucket keeps its own, which is returned. Reads go to the stream leader, not a replica
 * (`allow_direct: false`): a renewal must see the last revision, and a direct get on a young R3
 * stream was seen to time out.
 */
export async function openLeaseBucket(js: JetStreamClient, bucket: string, opts: { ttlMs: number; replicas?: number }): Promise<{ kv: KV; ttlMs: number }> {
  const kv = await new Kvm(js).create(bucket, { history: 1, ttl: opts.ttlMs, replicas: opts.replicas ?? 1, allow_direct: false })
  const status = await kv.status()
  return { kv, ttlMs: status.ttl > 0 ? status.ttl : opts.ttlMs }
}

export function kvLeaseStore(kv: KV): LeaseStore {
  return {
    async create(key, value) {
      try {
        return await kv.create(key, value)
      } catch (err) {
        if (lostRace(err)) return undefined
        throw err
      }
    },
    async update(key, value, revision) {
      try {
        return await kv.update(key, value, revision)
      } catch (err) {
        if (lostRace(err)) return undefined
        throw err
      }
    },
    async get(key) {
      const e = await kv.get(key)
      if (!e || e.operation !== 'PUT' || e.length === 0) return undefined
      return { value: e.string(), revision: e.revision }
    },
    async delete(key, revision) {
      try {
        await kv.delete(key, { previousSeq: revision })
      } catch (err) {
        if (!lostRace(err)) throw err
      }
    },
    async keys(prefix) {
      // One stream-info request, not kv.keys(): that can hang on a busy bucket (core/jetstream/kv-keys.ts).
      return bucketKeys(kv, prefix ? `${prefix}>` : '>', { live: true })
    },
  }
}
