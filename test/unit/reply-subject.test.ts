import { createRequire } from 'node:module'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import type { JsMsg } from '@nats-io/jetstream'
import { deliveryCount, deliveryCountIn, deliveryNumbers, streamSeq, streamSeqIn } from '../../core/jetstream/reply-subject.js'

// nats.js's own parser, which `m.info` runs; not in the package's exports, so loaded by file.
const require = createRequire(import.meta.url)
const { parseInfo } = require(path.join(path.dirname(require.resolve('@nats-io/jetstream')), 'jsmsg.js')) as {
  parseInfo(s: string): { deliveryCount: number; streamSequence: number; deliverySequence: number }
}

type Field = 'deliveryCount' | 'streamSequence' | 'deliverySequence'

/** What nats.js makes of `s`: the field, or 'throws'. */
function theirs(s: string, field: Field = 'deliveryCount'): number | 'throws' {
  try {
    return parseInfo(s)[field]
  } catch {
    return 'throws'
  }
}

/** A delivered message as nats.js keeps it: its raw reply subject. */
const raw = (reply: string) => ({ msg: { _msg: { reply: new TextEncoder().encode(reply) } } }) as unknown as JsMsg

function ours(s: string, field: Field = 'deliveryCount'): number | 'throws' {
  // The consumer sequence is read only with the others (deliveryNumbers, the in-order check).
  const consumerSeqIn = (b: Buffer): number => deliveryNumbers(raw(b.toString()), { delivered: 0, streamSeq: 0, consumerSeq: 0 }).consumerSeq
  try {
    return { deliveryCount: deliveryCountIn, streamSequence: streamSeqIn, deliverySequence: consumerSeqIn }[field](Buffer.from(s))
  } catch {
    return 'throws'
  }
}

const subjects = [
  // 2.9: $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>
  '$JS.ACK.BENCH_SINK.bench-sink--clickhouse.1.42.40.1790000000000000000.299958',
  '$JS.ACK.S.c.3.1.1.1790000000000000000.0',
  '$JS.ACK.S.c.1234567.9.9.1.0',
  // v2: domain (`_` for none) and account hash, then the same, and a random token or more
  '$JS.ACK._.ACCHASH.S.c.1.42.40.1790000000000000000.7',
  '$JS.ACK.hub.ACCHASH.S.c.5.42.40.1790000000000000000.7.r4nd0m',
  '$JS.ACK.hub.ACCHASH.S.c.27.42.40.1790000000000000000.7.r4nd0m.more',
  // tokens parseInt reads its own way (never sent by a server, but the answer must not differ)
  '$JS.ACK.S.c.+3.1.1.1.0',
  '$JS.ACK.S.c. 2.1.1.1.0',
  '$JS.ACK.S.c.2x.1.1.1.0',
  '$JS.ACK.S.c.x2.1.1.1.0',
  '$JS.ACK.S.c..1.1.1.0',
  '$JS.ACK.S.c.-1.1.1.1.0',
  '$JS.ACK.S.c.12345678901234567890.1.1.1.0',
  '$JS.ACK._.H.S.c.007.1.1.1.0',
  '$JS.ACK.S.c.\u00e9.1.1.1.0',
  // names beyond ASCII (dots never occur inside a UTF-8 sequence)
  '$JS.ACK.STRÖM.verbraucher-ü.4.1.1.1.0',
  '$JS.ACK._.H.流.消费者.6.1.1.1.0.r',
  // not JetStream messages
  '',
  '_INBOX.abc',
  '$JS.ACK.S.c.1.1.1.1',
  '$JS.ACK.S.c.1.1.1.1.0.x',
  '$JS.NAK.S.c.1.1.1.1.0',
  '$JS.ACKS.c.1.1.1.1.0.0',
  'X$JS.ACK.S.c.1.1.1.1.0',
]

describe('deliveryCount, streamSeq and the consumer sequence', () => {
  it.each(subjects)('agree with nats.js parseInfo on %j', (s) => {
    expect(ours(s)).toBe(theirs(s))
    // The sequence token beside it, with the same odd forms moved one token on.
    expect(ours(s, 'streamSequence')).toBe(theirs(s, 'streamSequence'))
    const shifted = s.replace(/^(\$JS\.ACK\.(?:[^.]*\.){2,4}?)([^.]*)\.([^.]*)\./, '$1$3.$2.')
    expect(ours(shifted, 'streamSequence')).toBe(theirs(shifted, 'streamSequence'))
    expect(ours(s, 'deliverySequence')).toBe(theirs(s, 'deliverySequence'))
    const twice = s.replace(/^(\$JS\.ACK\.(?:[^.]*\.){2,4}?)([^.]*)\.([^.]*)\.([^.]*)\./, '$1$3.$4.$2.')
    expect(ours(twice, 'deliverySequence')).toBe(theirs(twice, 'deliverySequence'))
  })

  it('reads the count from both reply forms', () => {
    expect(deliveryCountIn(Buffer.from('$JS.ACK.S.c.3.1.1.1790000000000000000.0'))).toBe(3)
    expect(deliveryCountIn(Buffer.from('$JS.ACK.hub.ACCHASH.S.c.5.42.40.1790000000000000000.7.r4nd0m'))).toBe(5)
  })

  it('reads the raw reply nats.js keeps, else asks m.info', () => {
    expect(deliveryCount(raw('$JS.ACK._.H.S.c.2.9.9.1.0'))).toBe(2)
    expect(() => deliveryCount(raw('_INBOX.x'))).toThrow('not a jetstream message')
    expect(deliveryCount({ info: { deliveryCount: 4 } } as unknown as JsMsg)).toBe(4)
    expect(streamSeq(raw('$JS.ACK.S.c.2.9.7.1.0'))).toBe(9)
    expect(streamSeq(raw('$JS.ACK._.H.S.c.2.11.9.1.0'))).toBe(11)
    expect(streamSeq({ seq: 5 } as unknown as JsMsg)).toBe(5)
  })
})

describe('deliveryNumbers', () => {
  it('reads the three numbers in one scan, as the single readers do, from both forms and from m.info', () => {
    const out = { delivered: 0, streamSeq: 0, consumerSeq: 0 }
    for (const s of subjects) {
      const want = theirs(s) === 'throws' ? 'throws' : { delivered: theirs(s), streamSeq: theirs(s, 'streamSequence'), consumerSeq: theirs(s, 'deliverySequence') }
      let got: unknown
      try {
        got = { ...deliveryNumbers(raw(s), out) }
      } catch {
        got = 'throws'
      }
      expect(got, s).toEqual(want)
    }
    expect(deliveryNumbers({ info: { deliveryCount: 2, streamSequence: 9, deliverySequence: 4 } } as unknown as JsMsg, out)).toEqual({ delivered: 2, streamSeq: 9, consumerSeq: 4 })
  })
})
