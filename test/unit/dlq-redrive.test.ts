import { describe, expect, it } from 'vitest'
import { isSourceEntry, oneInputKey, redriveMessage, redriveTarget } from '../../core/dlq/redrive-message.js'
import { resolvedMarkers } from '../../core/dlq/resolved.js'
import type { DeadRecord } from '../../core/dlq/types.js'

const entry = (extra: Partial<DeadRecord>): DeadRecord => ({
  seq: 40,
  stage: 'filter',
  plugin: 'filter',
  reason: 'expression failed',
  code: 'E_REJECTED',
  tries: 1,
  originSubject: 'trib.orders.file',
  originSeq: 7,
  time: '2024-01-01T00:00:00.000Z',
  epoch: 1,
  record: { id: 1 },
  data: new TextEncoder().encode('{"id":1}'),
  ...extra,
})

describe('dlq redrive messages', () => {
  it('a record dead in a group goes back to the group input, under the new epoch, marked as a copy of its input', () => {
    const e = entry({})
    expect(isSourceEntry('orders', e)).toBe(false)
    const m = redriveMessage('orders', 5, e)
    expect(m.subject).toBe('trib.orders.file')
    expect(new TextDecoder().decode(m.data)).toBe('{"id":1}')
    expect(m.headers.get('Nats-Msg-Id')).toBe('orders:filter:5:40')
    expect(m.headers.get('Trib-Epoch')).toBe('5')
    expect(m.headers.get('Trib-Redrive-Of')).toBe('40')
    expect(m.headers.get('Trib-Origin-Seq')).toBe('7')
  })

  it('a record dead at the source goes to the source subject and carries no stream origin (it never was in the stream)', () => {
    const e = entry({ stage: 'file', plugin: 'file', code: 'E_RECORD', originSeq: 1501 })
    expect(isSourceEntry('orders', e)).toBe(true)
    const m = redriveMessage('orders', 2, e)
    expect(m.subject).toBe('trib.orders.file')
    expect(m.headers.has('Trib-Origin-Seq')).toBe(false)
    expect(oneInputKey('orders', e)).toBe('dlq#40')
  })

  it('entries of one input are redriven once; two inputs stay two', () => {
    expect(oneInputKey('orders', entry({ seq: 40 }))).toBe(oneInputKey('orders', entry({ seq: 41, stage: 'map' })))
    expect(oneInputKey('orders', entry({ originSeq: 8 }))).not.toBe(oneInputKey('orders', entry({})))
  })

  it('refuses an origin outside the pipeline’s data path', () => {
    for (const originSubject of ['', 'trib.other.file', 'trib.orders.dlq', 'trib.orders.a.b', 'foo']) {
      expect(() => redriveTarget('orders', entry({ originSubject }))).toThrow(expect.objectContaining({ code: 'E_STATE' }))
    }
  })

  it('resolved markers are chunked below max_payload with ids keyed by their first sequence', () => {
    const seqs = Array.from({ length: 120_000 }, (_, i) => i + 10)
    const markers = resolvedMarkers('orders', 3, seqs)
    expect(markers).toHaveLength(3)
    expect(markers.map((m) => m.headers.get('Nats-Msg-Id'))).toEqual(['orders:dlq-resolved:3:10', 'orders:dlq-resolved:3:50010', 'orders:dlq-resolved:3:100010'])
    expect(markers.every((m) => m.subject === 'trib.orders.dlq.resolved' && m.data.length < 1_000_000)).toBe(true)
    expect(markers.flatMap((m) => JSON.parse(new TextDecoder().decode(m.data)) as number[])).toEqual(seqs)
  })
})
