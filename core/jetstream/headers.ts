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

const needles = new Map<string, Buffer>()
/** The bytes searched for, encoded once per name. */
function needle(text: string): Buffer {
  let b = needles.get(text)
  if (!b) needles.set(text, (b = Buffer.from(text)))
  return b
}

/**
 * Where `text` starts in the raw header block of `m`: -1 when it is not there, undefined when
 * nats.js keeps the message otherwise. Searches the whole buffer without copying or slicing it
 * (a match at or after the header block's end is in the payload: not a header).
 */
function findInHeaders(m: JsMsg, text: string): { at: number; block: Uint8Array; end: number } | -1 | undefined {
  const raw = (m as unknown as RawMsg).msg
  const data = raw?._rdata
  const hdr = raw?._msg?.hdr
  if (!(data instanceof Uint8Array) || typeof hdr !== 'number') return undefined
  if (hdr <= 0) return -1
  const end = Math.min(hdr, data.length)
  const at = Buffer.isBuffer(data) ? data.indexOf(needle(text)) : Buffer.from(data.buffer, data.byteOffset, end).indexOf(needle(text))
  return at === -1 || at >= end ? -1 : { at, block: data, end }
}

/**
 * Whether `m` has header `name`. Reading `m.headers` decodes every header into a Map, per
 * message; checks on the hot path (replay asks this of every record) first look for the name's
 * bytes in the raw header block and decode only when they are there. Falls back to decoding
 * when the message's raw form is not the one expected (another nats.js version).
 */
export function hasHeader(m: JsMsg, name: string): boolean {
  const found = findInHeaders(m, name)
  if (found === -1) return false
  return m.headers?.has(name) ?? false
}

/**
 * The first value of header `name` (exact case, as nats.js matches it too), read from the raw
 * header block without decoding the others; decodes them all only as a fallback.
 */
export function headerOf(m: JsMsg, name: string): string | undefined {
  const found = findInHeaders(m, `\r\n${name}:`)
  if (found === undefined) return m.headers?.get(name) || undefined
  if (found === -1) return undefined
  const from = found.at + name.length + 3
  const block = Buffer.isBuffer(found.block) ? found.block : Buffer.from(found.block.buffer, found.block.byteOffset, found.end)
  const stop = block.indexOf(needle('\r\n'), from)
  return block.toString('utf8', from, stop === -1 || stop > found.end ? found.end : stop).trim() || undefined
}
