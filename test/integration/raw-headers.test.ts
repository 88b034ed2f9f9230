import { describe, expect, it } from 'vitest'
import { headers } from '@nats-io/nats-core'
import { AckPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream'
import { natsForSuite } from '../helpers/nats-server.js'
import { H, hasHeader, headerOf } from '../../core/jetstream/headers.js'
import { deliveryCount } from '../../core/jetstream/reply-subject.js'

// The hot path reads headers and delivery counts from nats.js's raw message bytes; this holds
// them to what `msg.headers` and `msg.info` decode, on messages delivered by a real server.
describe('headers read from the raw message', () => {
  const suite = natsForSuite()

  it('agree with the decoded headers: present, absent, several, none at all', async () => {
    const jsm = await jetstreamManager(suite.nc)
    await jsm.streams.add({ name: 'RAW', subjects: ['raw.>'] })
    const js = jetstream(suite.nc)
    const a = headers()
    a.set(H.msgId, 'p:file:0:41')
    a.set(H.eventTime, ' 1790000000000 ')
    a.set(H.redriveOf, '7')
    await js.publish('raw.a', 'x', { headers: a })
    const b = headers()
    b.set(H.msgId, 'p:file:0:42')
    b.append('X-Multi', 'one')
    b.append('X-Multi', 'two')
    await js.publish('raw.b', 'y', { headers: b })
    await js.publish('raw.c', 'z')
    await jsm.consumers.add('RAW', { durable_name: 'c', ack_policy: AckPolicy.Explicit })
    const msgs: JsMsg[] = []
    for await (const m of await js.consumers.get('RAW', 'c').then((c) => c.fetch({ max_messages: 3, expires: 2000 }))) msgs.push(m)
    expect(msgs).toHaveLength(3)
    // The fast path's assumption about nats.js (else it silently falls back to decoding).
    expect((msgs[0] as unknown as { msg: { _rdata: unknown } }).msg._rdata).toBeInstanceOf(Uint8Array)
    for (const m of msgs) {
      for (const name of [H.msgId, H.eventTime, H.redriveOf, 'X-Multi', 'Trib-Absent']) {
        expect(headerOf(m, name), `${m.subject} ${name}`).toBe(m.headers?.get(name)?.trim() || undefined)
        expect(hasHeader(m, name), `${m.subject} ${name}`).toBe(m.headers?.has(name) ?? false)
      }
    }
    expect(headerOf(msgs[0]!, H.eventTime)).toBe('1790000000000')
    expect(headerOf(msgs[1]!, 'X-Multi')).toBe('one')
    expect(hasHeader(msgs[2]!, H.msgId)).toBe(false)
  })

  it('delivery counts agree with msg.info, first delivery and redelivered', async () => {
    const jsm = await jetstreamManager(suite.nc)
    await jsm.streams.add({ name: 'RAWDC', subjects: ['rawdc.>'] })
    const js = jetstream(suite.nc)
    await js.publish('rawdc.a', 'x')
    await js.publish('rawdc.b', 'y')
    await jsm.consumers.add('RAWDC', { durable_name: 'c', ack_policy: AckPolicy.Explicit })
    const consumer = await js.consumers.get('RAWDC', 'c')
    const fetchAll = async (n: number): Promise<JsMsg[]> => {
      const out: JsMsg[] = []
      for await (const m of await consumer.fetch({ max_messages: n, expires: 2000 })) out.push(m)
      return out
    }
    const first = await fetchAll(2)
    expect(first).toHaveLength(2)
    // The fast path's assumption about nats.js (else it falls back to msg.info).
    expect((first[0] as unknown as { msg: { _msg: { reply: unknown } } }).msg._msg.reply).toBeInstanceOf(Uint8Array)
    for (const m of first) expect(deliveryCount(m)).toBe(m.info.deliveryCount)
    expect(first.map(deliveryCount)).toEqual([1, 1])
    first[0]!.ack()
    first[1]!.nak()
    const again = await fetchAll(1)
    expect(again).toHaveLength(1)
    expect(deliveryCount(again[0]!)).toBe(again[0]!.info.deliveryCount)
    expect(deliveryCount(again[0]!)).toBe(2)
    again[0]!.ack()
  })
})
