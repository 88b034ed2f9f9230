import type { JetStreamManager } from '@nats-io/jetstream'
import type { KV } from '@nats-io/kv'
import type { JsonObject } from '../plugin-api.js'
import type { OutMessage } from '../jetstream/publisher.js'
import { kvKeys } from '../jetstream/kv-keys.js'
import { stateBucket } from '../jetstream/names.js'
import type { SavedPartitioning } from './count.js'
import { subjectRoute, type SubjectRoute } from './route.js'

const decoder = new TextDecoder()

/**
 * The partitioned inputs of a pipeline, from what its runtimes recorded (`<stage>._partitions`),
 * by plain input subject: for commands without the pipeline file (`dlq replay`) that put a
 * record back on a subject whose reader is split into key partitions.
 */
export async function savedRoutes(jsm: JetStreamManager, kv: KV, pipeline: string): Promise<Map<string, SubjectRoute>> {
  const out = new Map<string, SubjectRoute>()
  for (const key of await kvKeys(jsm, stateBucket(pipeline), '*._partitions')) {
    const e = await kv.get(key)
    if (!e || e.operation !== 'PUT' || e.length === 0) continue
    const p = e.json<SavedPartitioning>()
    if (p.count > 1) out.set(p.subject, subjectRoute(p.subject, { count: p.count, key: p.key.map((k) => k.split('.')) }))
  }
  return out
}

/** The message on its key partition's subject when its subject is a partitioned input. */
export function onPartition(m: OutMessage, routes: Map<string, SubjectRoute>): OutMessage {
  const route = routes.get(m.subject)
  if (!route) return m
  let v: unknown
  try {
    v = JSON.parse(decoder.decode(m.data))
  } catch {
    v = {}
  }
  return { ...m, subject: route(typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonObject) : {}) }
}
