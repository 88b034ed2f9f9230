import type { KV } from '@nats-io/kv'

/** Which entries a redrive takes: by stage and/or DLQ sequence; none = all. */
export interface RedriveSelection {
  stage?: string
  seqs?: number[]
}

/**
 * A redrive in progress, written before it publishes and cleared once its entries left the
 * DLQ. A redrive killed in between is finished by the next one with the same epoch, so its
 * republished messages carry the same ids and the duplicate window drops the copies.
 */
export interface RedriveIntent extends RedriveSelection {
  epoch: number
  /** Highest DLQ sequence selected: entries that arrived later are not part of it. */
  upTo: number
}

const KEY = 'pipeline.redrive'

export async function readIntent(kv: KV): Promise<RedriveIntent | undefined> {
  const e = await kv.get(KEY)
  if (!e || e.operation !== 'PUT' || e.length === 0) return undefined
  return e.json<RedriveIntent>()
}

export async function writeIntent(kv: KV, intent: RedriveIntent): Promise<void> {
  await kv.put(KEY, JSON.stringify(intent))
}

export async function clearIntent(kv: KV): Promise<void> {
  await kv.delete(KEY)
}
