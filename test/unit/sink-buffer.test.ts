import { describe, expect, it } from 'vitest'
import type { JsMsg } from '@nats-io/jetstream'
import { SinkBuffer, DEFAULT_BATCHING } from '../../core/runtime/sink-buffer.js'
import type { StageSpec } from '../../core/pipeline/types.js'

const spec: StageSpec = { id: 'ch', kind: 'sink', use: 'clickhouse', config: {}, path: 'sinks[0]' }
const msg = {} as JsMsg

describe('sink buffer flush policy', () => {
  it('is due by rows, by bytes, or once its oldest record has waited maxWait', () => {
    const b = new SinkBuffer(spec, { batching: { rows: 3, bytes: 100, maxWaitMs: 1000 }, write: async () => undefined }, undefined)
    expect(b.due(Date.now())).toBe(false)
    b.add({ a: 1 }, 'id1', msg, 10)
    b.add({ a: 2 }, 'id2', msg, 10)
    expect(b.due(b.firstAt + 999)).toBe(false)
    expect(b.due(b.firstAt + 1000)).toBe(true)
    expect(b.msUntilDue(b.firstAt + 400)).toBe(600)
    b.add({ a: 3 }, 'id3', msg, 10)
    expect(b.due(b.firstAt)).toBe(true)
    const taken = b.take()
    expect(taken.ids).toEqual(['id1', 'id2', 'id3'])
    expect(b.empty).toBe(true)
    expect(b.msUntilDue(Date.now())).toBe(Infinity)
    b.add({ big: 'x' }, 'id4', msg, 100)
    expect(b.due(b.firstAt)).toBe(true)
  })

  it('hands a sink each record id once when redelivered inputs are in the batch (both deliveries of an input can meet in one batch)', () => {
    const b = new SinkBuffer(spec, { write: async () => undefined }, undefined)
    const first = { seq: 1 } as unknown as JsMsg
    const again = { seq: 2 } as unknown as JsMsg
    b.add({ n: 1 }, 'p:s:0:1', first, 10)
    b.add({ n: 2 }, 'p:s:0:2', first, 10)
    b.add({ n: 1 }, 'p:s:0:1', again, 10, true)
    b.add({ n: 3 }, 'p:s:0:3', again, 10, true)
    const taken = b.take()
    expect(taken).toEqual({ records: [{ n: 1 }, { n: 2 }, { n: 3 }], ids: ['p:s:0:1', 'p:s:0:2', 'p:s:0:3'], origins: [first, first, again], json: undefined, redelivered: true })
    // First deliveries only: taken as they are.
    b.add({ n: 4 }, 'p:s:0:4', first, 10)
    b.add({ n: 4 }, 'p:s:0:4', first, 10)
    expect(b.take().ids).toEqual(['p:s:0:4', 'p:s:0:4'])
  })

  it('uses the default batching when the sink declares none', () => {
    expect(new SinkBuffer(spec, { write: async () => undefined }, undefined).batching).toEqual(DEFAULT_BATCHING)
  })
})
