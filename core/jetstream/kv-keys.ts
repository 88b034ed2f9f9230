import type { JetStreamManager } from '@nats-io/jetstream'

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
