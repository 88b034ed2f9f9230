import type { MsgHdrs } from '@nats-io/nats-core'
import type { JsonValue } from '../plugin-api.js'
import { H } from '../jetstream/headers.js'
import type { DeadRecord, DlqEntry } from './types.js'

const decoder = new TextDecoder()

/** Reads a DLQ message (headers written by core/runtime/dlq.ts) into an entry. */
export function toDeadRecord(seq: number, storedAt: Date, headers: MsgHdrs | undefined, data: Uint8Array): DeadRecord {
  const h = (name: string): string => headers?.get(name) ?? ''
  const num = (name: string): number => {
    const n = Number(h(name))
    return Number.isFinite(n) ? n : 0
  }
  return {
    seq,
    stage: h(H.stage),
    plugin: h(H.plugin),
    reason: h(H.reason),
    code: h(H.errorCode),
    tries: num(H.tries),
    originSubject: h(H.originSubject),
    originSeq: num(H.originSeq),
    time: h(H.time) || storedAt.toISOString(),
    epoch: num(H.epoch),
    record: parseRecord(data),
    data,
  }
}

/** The record as JSON when it parses (objects and everything else), else its text. */
export function parseRecord(data: Uint8Array): JsonValue {
  const text = decoder.decode(data)
  try {
    return JSON.parse(text) as JsonValue
  } catch {
    return text
  }
}

/** The printable entry, without the raw bytes. */
export function publicEntry(r: DeadRecord): DlqEntry {
  const { data: _data, ...entry } = r
  return entry
}
