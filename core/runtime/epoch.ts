import type { KV } from '@nats-io/kv'

const EPOCH_KEY = 'pipeline.epoch'

/** The pipeline's processing epoch (1 until a replay or redrive bumps it). */
export async function readEpoch(kv: KV): Promise<number> {
  const e = await kv.get(EPOCH_KEY)
  if (!e || e.operation !== 'PUT' || e.length === 0) return 1
  const n = Number(e.string())
  return Number.isInteger(n) && n > 0 ? n : 1
}

export async function bumpEpoch(kv: KV): Promise<number> {
  const next = (await readEpoch(kv)) + 1
  await kv.put(EPOCH_KEY, String(next))
  return next
}
