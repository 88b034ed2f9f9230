import { Kvm, type KV } from '@nats-io/kv'
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream'
import { bucketKeys, kvKeys } from '../jetstream/kv-keys.js'
import { stateBucket } from '../jetstream/names.js'
import type { RuntimeStatusDoc } from './types.js'

/**
 * Status documents live in the pipeline's state bucket under `_runtime.<instance>`: stage keys are
 * `<stage-id>.<key>` and stage ids start with a letter, so the two never meet.
 */
const PREFIX = '_runtime'

export function statusKey(instance: string): string {
  return `${PREFIX}.${instance}`
}

/** `<host>-<pid>` with the characters a KV key allows. */
export function instanceId(host: string, pid: number): string {
  return `${host.replace(/[^A-Za-z0-9_-]/g, '_')}-${pid}`
}

export async function writeStatus(kv: KV, doc: RuntimeStatusDoc): Promise<void> {
  await kv.put(statusKey(doc.instance), JSON.stringify(doc))
}

/** The pipeline's state bucket when it exists (it does once the pipeline has run), without creating it. */
export async function openStatusBucket(js: JetStreamClient, pipeline: string): Promise<KV | undefined> {
  try {
    const jsm = await js.jetstreamManager()
    await jsm.streams.info(`KV_${stateBucket(pipeline)}`)
  } catch {
    return undefined
  }
  return new Kvm(js).open(stateBucket(pipeline))
}

/**
 * Every runtime's last document, newest first. Keys are listed by one stream-info request
 * (core/jetstream/kv-keys.ts), through `list` or the bucket's own handle: `kv.keys()` can hang on
 * a bucket runtimes write every second.
 */
export async function readStatusDocs(kv: KV, list?: { jsm: JetStreamManager; pipeline: string }): Promise<RuntimeStatusDoc[]> {
  const keys: string[] = []
  if (list) keys.push(...(await kvKeys(list.jsm, stateBucket(list.pipeline), `${PREFIX}.>`)))
  else keys.push(...(await bucketKeys(kv, `${PREFIX}.>`)))
  const docs: RuntimeStatusDoc[] = []
  for (const k of keys) {
    const e = await kv.get(k)
    if (!e || e.operation !== 'PUT' || e.length === 0) continue
    try {
      docs.push(e.json<RuntimeStatusDoc>())
    } catch {
      // A document we cannot read (another version) is skipped, not fatal to `status`.
    }
  }
  return docs.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))
}

/** Forgets runtimes silent for longer than `olderThanMs`, so the bucket does not collect every pid ever run. */
export async function pruneStatusDocs(kv: KV, olderThanMs: number, now = Date.now(), list?: { jsm: JetStreamManager; pipeline: string }): Promise<void> {
  for (const d of await readStatusDocs(kv, list)) {
    if (now - Date.parse(d.updatedAt) > olderThanMs) await kv.purge(statusKey(d.instance))
  }
}
