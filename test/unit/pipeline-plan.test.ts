import { describe, expect, it } from 'vitest'
import { computePlan, formatPlan, type CurrentState } from '../../core/pipeline/plan.js'
import type { PipelineSpec, StageSpec } from '../../core/pipeline/types.js'

const stage = (id: string, kind: StageSpec['kind'], use = id): StageSpec => ({ id, kind, use, config: {}, path: id })
const spec: PipelineSpec = {
  name: 'orders',
  file: '/p/orders.yaml',
  baseDir: '/p',
  source: stage('file', 'source'),
  transforms: [stage('filter', 'transform')],
  sinks: [stage('clickhouse', 'sink')],
  retention: { maxAgeMs: 7 * 86_400_000, maxBytes: 1024 ** 3, duplicateWindowMs: 120_000 },
  delivery: { maxDeliver: 5, ackWaitMs: 60_000 },
  replicas: 1,
  secrets: [],
}
const desired = { consumers: ['orders--filter'], tables: [{ table: 'orders', columns: { id: 'UInt64', value: 'Float64' } }] }
const empty: CurrentState = { streamExists: false, consumers: [], positions: {}, tables: { orders: { exists: false } } }

describe('computePlan', () => {
  it('first deploy: everything is created', () => {
    expect(computePlan(spec, empty, desired)).toEqual([
      { action: 'create', what: 'stream', name: 'TRIB_ORDERS', detail: 'subjects trib.orders.>; max age 7d, max 1GB, duplicate window 2m, 1 replica' },
      { action: 'create', what: 'consumer', name: 'orders--filter', detail: 'new consumer' },
      { action: 'create', what: 'position', name: 'file', detail: 'source reads its input from the start' },
      { action: 'create', what: 'table', name: 'orders', detail: 'columns id UInt64, value Float64' },
    ])
  })

  it('redeploy unchanged: everything resumes or is kept', () => {
    const current: CurrentState = {
      streamExists: true,
      streamMessages: 500,
      consumers: [{ name: 'orders--filter', numPending: 3, ackFloorSeq: 497 }],
      positions: { file: { pos: 1234, line: 500 } },
      tables: { orders: { exists: true, columns: { id: 'UInt64', value: 'Float64' } } },
    }
    expect(computePlan(spec, current, desired).map((i) => [i.action, i.what, i.name])).toEqual([
      ['keep', 'stream', 'TRIB_ORDERS'],
      ['resume', 'consumer', 'orders--filter'],
      ['resume', 'position', 'file'],
      ['keep', 'table', 'orders'],
    ])
  })

  it('a renamed stage: the new consumer reprocesses history, the old one is dropped', () => {
    const current: CurrentState = {
      streamExists: true,
      streamMessages: 500,
      consumers: [{ name: 'orders--filter', numPending: 2, ackFloorSeq: 498 }],
      positions: { file: 1 },
      tables: {},
    }
    const plan = computePlan(spec, current, { consumers: ['orders--keep-big'], tables: [] })
    expect(plan.filter((i) => i.what === 'consumer')).toEqual([
      { action: 'reprocess', what: 'consumer', name: 'orders--keep-big', detail: "new consumer: reads the stream's history again (up to 500 messages), its outputs are written again" },
      { action: 'drop', what: 'consumer', name: 'orders--filter', detail: '2 pending messages will not be processed by it' },
    ])
  })

  it('a stateful stage resumes where its saved state ends, not from its durable (positioned at start)', () => {
    const current: CurrentState = {
      streamExists: true,
      streamMessages: 900,
      // The durable of a stateful stage is recreated at each start: its ack floor says nothing.
      consumers: [{ name: 'orders--window', numPending: 0, ackFloorSeq: 0 }],
      positions: {},
      tables: {},
      stateful: { 'orders--window': { stage: 'window', seq: 612 }, 'orders--dedupe--p0': { stage: 'dedupe', seq: 450, finished: true }, 'orders--dedupe--p1': { stage: 'dedupe' } },
    }
    const plan = computePlan(spec, current, { consumers: ['orders--window', 'orders--dedupe--p0', 'orders--dedupe--p1'], tables: [] })
    expect(plan.filter((i) => i.what === 'consumer')).toEqual([
      { action: 'resume', what: 'consumer', name: 'orders--window', detail: 'resumes after sequence 612, where the saved state of window ends' },
      { action: 'resume', what: 'consumer', name: 'orders--dedupe--p0', detail: 'resumes after sequence 450, where the saved state of dedupe ends (it had finished its input)' },
      { action: 'reprocess', what: 'consumer', name: 'orders--dedupe--p1', detail: "dedupe has no saved state: reads the stream's history from the start (up to 900 messages), its outputs are written again" },
    ])
    const fresh = computePlan(spec, { ...empty, stateful: { 'orders--window': { stage: 'window' } } }, { consumers: ['orders--window'], tables: [] })
    expect(fresh.filter((i) => i.what === 'consumer')).toEqual([{ action: 'create', what: 'consumer', name: 'orders--window', detail: 'new consumer' }])
  })

  it('a renamed source reads its input again; its old position is dropped', () => {
    const current: CurrentState = { streamExists: true, streamMessages: 0, consumers: [], positions: { 'old-file': 42, filter: { k: 1 } }, tables: {} }
    expect(computePlan(spec, current, { consumers: [], tables: [] }).filter((i) => i.what === 'position')).toEqual([
      { action: 'reprocess', what: 'position', name: 'file', detail: 'no saved position for this id (saved ones: old-file): the source reads its input from the start; keep its old `id` to resume instead' },
      { action: 'keep', what: 'position', name: 'filter', detail: 'saved stage state is kept' },
      { action: 'drop', what: 'position', name: 'old-file', detail: 'saved state of a stage that is no longer in the pipeline' },
    ])
  })

  it('tables: a column mismatch, a table that cannot be created, one not inspected', () => {
    const current: CurrentState = { ...empty, tables: { a: { exists: true, columns: { id: 'UInt32' } }, b: { exists: false } } }
    const plan = computePlan(spec, current, { consumers: [], tables: [{ table: 'a', columns: { id: 'UInt64', v: 'String' } }, { table: 'b' }, { table: 'c' }] })
    expect(plan.filter((i) => i.what === 'table').map((i) => [i.action, i.name, i.detail])).toEqual([
      ['check', 'a', 'differs: column id is UInt32, the sink writes UInt64; column v is missing'],
      ['check', 'b', 'does not exist and the sink has no `columns` to create it from: inserts will fail'],
      ['check', 'c', 'not inspected; checked before the first insert'],
    ])
  })
})

describe('formatPlan', () => {
  it('aligns the items and ends with a summary', () => {
    const text = formatPlan(computePlan(spec, empty, desired))
    expect(text).toBe(
      [
        '+ create  stream    TRIB_ORDERS     subjects trib.orders.>; max age 7d, max 1GB, duplicate window 2m, 1 replica',
        '+ create  consumer  orders--filter  new consumer',
        '+ create  position  file            source reads its input from the start',
        '+ create  table     orders          columns id UInt64, value Float64',
        '',
        'Plan: 4 to create.',
      ].join('\n'),
    )
    expect(formatPlan([])).toBe('Plan: no changes.')
  })
})
