import type { JetStreamManager } from '@nats-io/jetstream'
import { Bucket, type KV } from '@nats-io/kv'
import { TributaryError } from '../errors.js'

/**
 * The keys of a KV bucket under `filter`, from one stream-info request (the server lists the
 * subjects holding messages), instead of the client's `kv.keys()`: that walks an ordered consumer
 * until a message says nothing is pending, and on a bucket written several times a second
 * (heartbeats, source positions) it was seen to never finish (1 call in 30 hung; @nats-io/kv 3.4,
 * nats-server 2.9). Deleted and purged keys keep their marker: callers read each key and skip those.
 */
export async function kvKeys(jsm: JetStreamManager, bucket: string, filter = '>'): Promise<string[]> {
  const prefix = `$KV.${bucket}.`
  const info = await jsm.streams.info(`KV_${bucket}`, { subjects_filter: `${prefix}${filter}` })
  return Object.keys(info.state.subjects ?? {})
    .map((s) => s.slice(prefix.length))
    .sort()
}

/**
 * The same for an open bucket, where only its handle is at hand (a `Bucket`, as `Kvm.open` and
 * `Kvm.create` return: it carries its manager and name). With `live`, deleted and purged keys
 * are left out, as `kv.keys()` leaves them out (one get per key).
 */
export async function bucketKeys(kv: KV, filter = '>', opts: { live?: boolean } = {}): Promise<string[]> {
  if (!(kv instanceof Bucket)) throw new TributaryError('E_INTERNAL', 'bucketKeys() needs a bucket opened with Kvm (open or create)')
  const keys = await kvKeys(kv.jsm, kv.bucket, filter)
  if (!opts.live) return keys
  const live: string[] = []
  for (const k of keys) {
    const e = await kv.get(k)
    if (e && e.operation === 'PUT') live.push(k)
  }
  return live
}
