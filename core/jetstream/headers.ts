import type { JsMsg } from '@nats-io/jetstream'

/** Header names: record metadata travels in NATS headers, never inside the record (DESIGN §2). */
export const H = {
  msgId: 'Nats-Msg-Id',
  originSeq: 'Trib-Origin-Seq',
  eventTime: 'Trib-Event-Time',
  epoch: 'Trib-Epoch',
  // DLQ entries
  stage: 'Trib-Stage',
  plugin: 'Trib-Plugin',
  reason: 'Trib-Reason',
  errorCode: 'Trib-Error-Code',
  tries: 'Trib-Tries',
  originSubject: 'Trib-Origin-Subject',
  time: 'Trib-Time',
  // A redriven dead record: the DLQ sequence it came from (replay skips such copies of records it reprocesses)
  redriveOf: 'Trib-Redrive-Of',
} as const

/** Header values are one line of ASCII-safe text; reasons can carry anything. */
export function headerValue(s: string, max = 1024): string {
  const one = s.replace(/[\r\n]+/g, ' ').trim()
  return one.length > max ? `${one.slice(0, max - 1)}…` : one
}

/** The raw form nats.js keeps a delivered message in (headers and payload in one buffer). */
interface RawMsg {
  msg?: { _rdata?: Uint8Array; _msg?: { hdr?: number } }
}

const CR = 13
const LF = 10

const patterns = new Map<string, { name: Uint8Array; line: Uint8Array }>()
/** The bytes searched for: `name`, and `\r\n<name>:` (a header line's start), encoded once per name. */
function patternsOf(name: string): { name: Uint8Array; line: Uint8Array } {
  let p = patterns.get(name)
  if (!p) patterns.set(name, (p = { name: Buffer.from(name), line: Buffer.from(`\r\n${name}:`) }))
  return p
}

/** The raw buffer of `m` when nats.js keeps it as expected (another nats.js version: undefined). */
function rawOf(m: JsMsg): { _rdata?: Uint8Array; _msg?: { hdr?: number } } | undefined {
  const raw = (m as unknown as RawMsg).msg
  return raw?._rdata instanceof Uint8Array && typeof raw._msg?.hdr === 'number' ? raw : undefined
}

/**
 * Where `pattern` starts in `data[0, end)` (the header block), or -1. A plain byte loop: header
 * blocks are a few dozen bytes, shorter than what a call into Buffer.indexOf costs.
 */
function indexIn(data: Uint8Array, end: number, pattern: Uint8Array): number {
  const n = pattern.length
  const first = pattern[0]
  outer: for (let i = 0, last = end - n; i <= last; i++) {
    if (data[i] !== first) continue
    for (let j = 1; j < n; j++) if (data[i + j] !== pattern[j]) continue outer
    return i
  }
  return -1
}

/**
 * Whether `m` has header `name`. Reading `m.headers` decodes every header into a Map, per
 * message; checks on the hot path (replay asks this of every record) first look for the name's
 * bytes in the raw header block and decode only when they are there. Falls back to decoding
 * when the message's raw form is not the one expected (another nats.js version).
 */
export function hasHeader(m: JsMsg, name: string): boolean {
  const raw = rawOf(m)
  if (raw) {
    const hdr = raw._msg!.hdr!
    if (hdr <= 0) return false
    const data = raw._rdata!
    if (indexIn(data, Math.min(hdr, data.length), patternsOf(name).name) === -1) return false
  }
  return m.headers?.has(name) ?? false
}

/**
 * The first value of header `name` (exact case, as nats.js matches it too), read from the raw
 * header block without decoding the others (only the value's bytes become a string); decodes
 * them all only as a fallback. Called per record on the hot path (record ids).
 */
export function headerOf(m: JsMsg, name: string): string | undefined {
  const raw = rawOf(m)
  if (!raw) return m.headers?.get(name) || undefined
  const data = raw._rdata!
  const end = Math.min(raw._msg!.hdr!, data.length)
  const pattern = patternsOf(name).line
  const at = end <= 0 ? -1 : indexIn(data, end, pattern)
  if (at === -1) return undefined
  const from = at + pattern.length
  let stop = from
  while (stop < end && !(data[stop] === CR && data[stop + 1] === LF)) stop++
  return Buffer.prototype.utf8Slice.call(data, from, stop).trim() || undefined
}
