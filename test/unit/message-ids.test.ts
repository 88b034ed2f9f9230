import { describe, expect, it } from 'vitest'
import { consumerName, dlqSubject, messageId, parseMessageId, stageSubject, stateBucket, streamName } from '../../core/jetstream/names.js'

describe('names and message ids', () => {
  it('derives stream, subjects, consumer and bucket names from the pipeline and stage ids', () => {
    expect(streamName('click-stream')).toBe('TRIB_CLICK-STREAM')
    expect(streamName('click_stream')).not.toBe(streamName('click-stream'))
    expect(stageSubject('orders', 'map-2')).toBe('trib.orders.map-2')
    expect(dlqSubject('orders')).toBe('trib.orders.dlq')
    expect(consumerName('orders', 'filter')).toBe('orders--filter')
    expect(stateBucket('orders')).toBe('trib-state-orders')
  })

  it('message id = pipeline, stage, epoch, origin sequence (+ index when one input yields several)', () => {
    expect(messageId('orders', 'file', 1, 42)).toBe('orders:file:1:42')
    expect(messageId('orders', 'file', 1, 42, 0)).toBe('orders:file:1:42')
    expect(messageId('orders', 'split', 3, 42, 2)).toBe('orders:split:3:42:2')
  })

  it('is deterministic: a redelivered input gets the same id, a new epoch a different one', () => {
    expect(messageId('o', 's', 1, 7)).toBe(messageId('o', 's', 1, 7))
    expect(messageId('o', 's', 2, 7)).not.toBe(messageId('o', 's', 1, 7))
  })

  it('parses back', () => {
    expect(parseMessageId('orders:split:3:42:2')).toEqual({ pipeline: 'orders', stageId: 'split', epoch: 3, seq: 42, index: 2 })
    expect(parseMessageId('orders:file:1:42')).toEqual({ pipeline: 'orders', stageId: 'file', epoch: 1, seq: 42, index: 0 })
    expect(parseMessageId('nonsense')).toBeUndefined()
  })
})
