import { randomUUID } from 'node:crypto'
import type { KV } from '@nats-io/kv'

/**
 * `<source>._finished` in the pipeline's state bucket: the source read its finite input to the
 * end and everything it read is in the stream. It tells stateful stages running in other
 * processes (a fleet) that their input will end, so they can emit what is still open once
 * everything before them is consumed (core/runtime/completion.ts). The source removes it before
 * it publishes anything new, and writes a fresh one (a new `id`) when it finishes again: a stage
 * that completed under one marker runs again when the marker changes.
 */
export interface FinishedMarker {
  v: 1
  id: string
  at: string
}

export function finishedKey(sourceId: string): string {
  return `${sourceId}._finished`
}

export async function readFinished(kv: KV, sourceId: string): Promise<FinishedMarker | undefined> {
  const e = await kv.get(finishedKey(sourceId))
  if (!e || e.operation !== 'PUT' || e.length === 0) return undefined
  try {
    const m = e.json<FinishedMarker>()
    return m.v === 1 && typeof m.id === 'string' ? m : undefined
  } catch {
    return undefined
  }
}

export async function writeFinished(kv: KV, sourceId: string): Promise<FinishedMarker> {
  const m: FinishedMarker = { v: 1, id: randomUUID(), at: new Date().toISOString() }
  await kv.put(finishedKey(sourceId), JSON.stringify(m))
  return m
}

export async function clearFinished(kv: KV, sourceId: string): Promise<void> {
  await kv.delete(finishedKey(sourceId))
}
