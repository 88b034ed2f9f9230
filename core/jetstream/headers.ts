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

/** The raw header block of `m` (`NATS/1.0\r\nName: value\r\n…`), or undefined when nats.js keeps it otherwise. */
function rawHeaders(m: JsMsg): Buffer | null | undefined {
  const raw = (m as unknown as RawMsg).msg
  const data = raw?._rdata
  const hdr = raw?._msg?.hdr
  if (!(data instanceof Uint8Array) || typeof hdr !== 'number') return undefined
  return hdr > 0 ? Buffer.from(data.buffer, data.byteOffset, Math.min(hdr, data.length)) : null
}

/**
 * Whether `m` has header `name`. Reading `m.headers` decodes every header into a Map, per
 * message; checks on the hot path (replay asks this of every record) first look for the name's
 * bytes in the raw header block and decode only when they are there. Falls back to decoding
 * when the message's raw form is not the one expected (another nats.js version).
 */
export function hasHeader(m: JsMsg, name: string): boolean {
  const block = rawHeaders(m)
  if (block === null) return false
  if (block && block.indexOf(name) === -1) return false
  return m.headers?.has(name) ?? false
}

/**
 * The first value of header `name` (exact case, as Tributary writes its headers), read from
 * the raw header block without decoding the others; decodes them all only as a fallback.
 */
export function headerOf(m: JsMsg, name: string): string | undefined {
  const block = rawHeaders(m)
  if (block === null) return undefined
  if (block) {
    const at = block.indexOf(`\r\n${name}:`)
    if (at === -1) return undefined // nats.js matches names exactly too
    const from = at + name.length + 3
    const end = block.indexOf('\r\n', from)
    return block.toString('utf8', from, end === -1 ? block.length : end).trim() || undefined
  }
  return m.headers?.get(name) || undefined
}
