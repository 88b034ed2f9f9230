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

/**
 * Whether `m` has header `name`. Reading `m.headers` decodes every header into a Map, per
 * message; a check on the hot path (replay asks it of every record) first looks for the name's
 * bytes in the raw header block and decodes only when they are there. Falls back to decoding
 * when the message's raw form is not the one expected (another nats.js version).
 */
export function hasHeader(m: JsMsg, name: string): boolean {
  const raw = (m as unknown as RawMsg).msg
  const data = raw?._rdata
  const hdr = raw?._msg?.hdr
  if (data instanceof Uint8Array && typeof hdr === 'number') {
    if (hdr <= 0) return false
    if (Buffer.from(data.buffer, data.byteOffset, Math.min(hdr, data.length)).indexOf(name) === -1) return false
  }
  return m.headers?.has(name) ?? false
}
