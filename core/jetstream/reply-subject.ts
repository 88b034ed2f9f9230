import type { JsMsg } from '@nats-io/jetstream'

/** The raw form nats.js keeps a delivered message's reply subject in (decoded only when read). */
interface RawReply {
  msg?: { _msg?: { reply?: unknown } }
}

const DOT = 46
const ZERO = 48
const PREFIX = Buffer.from('$JS.ACK.')

/** The reply subject's raw bytes when nats.js kept them (it decodes them only when read). */
function rawReply(m: JsMsg): Uint8Array | undefined {
  const reply = (m as unknown as RawReply).msg?._msg?.reply
  return reply instanceof Uint8Array ? reply : undefined
}

/**
 * How many times `m` has been delivered. `m.info` (nats.js parseInfo) decodes the reply subject,
 * splits it and builds an object per message, which shows in profiles of the hot path; this reads
 * the one token from the subject's raw bytes (so a message acked only through a later one's ack
 * never has its subject decoded). Falls back to `m.info` when nats.js keeps the message otherwise.
 */
export function deliveryCount(m: JsMsg): number {
  const reply = rawReply(m)
  return reply ? deliveryCountIn(reply) : m.info.deliveryCount
}

/** `m.seq` (the stream sequence), read the same way. */
export function streamSeq(m: JsMsg): number {
  const reply = rawReply(m)
  return reply ? streamSeqIn(reply) : m.seq
}

/**
 * The delivery count in a JetStream reply subject, by the token rules of parseInfo in
 * @nats-io/jetstream 3.4 (test/unit/reply-subject.test.ts holds it to them): 9 tokens
 * `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>` (2.9), 11 or more with
 * `<domain>.<account hash>` after `$JS.ACK` (v2); anything else is not a JetStream message and
 * throws as parseInfo does.
 */
export function deliveryCountIn(reply: Uint8Array): number {
  return tokenIn(reply, 4)
}

/** The stream sequence in a JetStream reply subject (see deliveryCountIn). */
export function streamSeqIn(reply: Uint8Array): number {
  return tokenIn(reply, 5)
}

/** Where each dot of the last reply scanned is (a reply has 8 to ~13). */
const dots = new Int32Array(32)

/**
 * Finds the reply's dots and checks its form; returns how far the tokens sit from the 2.9 form's
 * places (0, or 2 in the v2 form). The dots stay in `dots` for tokenAt.
 */
function scan(reply: Uint8Array): number {
  // Which form applies is known once all dots are counted.
  let n = 0
  for (let i = 0; i < reply.length; i++) {
    if (reply[i] !== DOT) continue
    if (n < dots.length) dots[n] = i
    n++
  }
  const tokens = n + 1
  if ((tokens !== 9 && tokens < 11) || !startsWith(reply, PREFIX)) {
    throw new Error('unable to parse delivery info - not a jetstream message')
  }
  return tokens === 9 ? 0 : 2
}

/** Integer token `index` of the 2.9 form, in the reply `scan` last read (shifted as it said). */
function tokenAt(reply: Uint8Array, index: number, shift: number): number {
  const t = index + shift
  return intToken(reply, dots[t - 1]! + 1, dots[t]!)
}

function tokenIn(reply: Uint8Array, index: number): number {
  return tokenAt(reply, index, scan(reply))
}

export interface DeliveryNumbers {
  /** Times delivered (m.info.deliveryCount). */
  delivered: number
  /** Stream sequence (m.seq). */
  streamSeq: number
  /** The consumer's delivery sequence (m.info.deliverySequence). */
  consumerSeq: number
}

/** The three numbers of `m`'s reply subject from one scan, into `out` (reused by the caller). */
export function deliveryNumbers(m: JsMsg, out: DeliveryNumbers): DeliveryNumbers {
  const reply = rawReply(m)
  if (!reply) {
    const info = m.info
    out.delivered = info.deliveryCount
    out.streamSeq = info.streamSequence
    out.consumerSeq = info.deliverySequence
    return out
  }
  const shift = scan(reply)
  out.delivered = tokenAt(reply, 4, shift)
  out.streamSeq = tokenAt(reply, 5, shift)
  out.consumerSeq = tokenAt(reply, 6, shift)
  return out
}

function startsWith(b: Uint8Array, prefix: Uint8Array): boolean {
  if (b.length < prefix.length) return false
  for (let i = 0; i < prefix.length; i++) if (b[i] !== prefix[i]) return false
  return true
}

/** parseInt(token, 10), decoding the token only when it is not plain digits (it always is, from a server). */
function intToken(b: Uint8Array, from: number, to: number): number {
  if (to > from && to - from <= 15) {
    let n = 0
    let i = from
    for (; i < to; i++) {
      const d = b[i]! - ZERO
      if (d < 0 || d > 9) break
      n = n * 10 + d
    }
    if (i === to) return n
  }
  return parseInt(new TextDecoder().decode(b.subarray(from, to)), 10)
}
