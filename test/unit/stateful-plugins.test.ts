import { describe, expect, it } from 'vitest'
import { outputKey, isRejection, type JsonObject, type PluginContext, type RecordMeta, type StatefulTransformProcessor, type TransformProcessor, type TransformResult } from '../../core/plugin-api.js'
import { celCompiler } from '../../core/expr/cel.js'
import { parseTimestamp } from '../../core/records/timestamp.js'
import { tableKey } from '../../core/records/tables.js'
import windowPlugin from '../../plugins/window/index.js'
import dedupePlugin from '../../plugins/dedupe/index.js'
import aggregatePlugin from '../../plugins/aggregate/index.js'
import joinPlugin from '../../plugins/join/index.js'
import splitPlugin, { words } from '../../plugins/split/index.js'
import { DedupeMemory } from '../../plugins/dedupe/memory.js'
import { IntervalJoin } from '../../plugins/join/interval.js'

// Plugins opened the way the runtime opens them, without servers: config already has defaults.
function ctx<C>(config: C): PluginContext<C> {
  const noop = (): void => undefined
  return {
    pipeline: 'p',
    stageId: 's',
    config,
    logger: { debug: noop, info: noop, warn: noop, error: noop },
    signal: new AbortController().signal,
    baseDir: '.',
    state: { get: async () => undefined, put: async () => undefined },
    expressions: celCompiler,
    clickhouse: () => Promise.reject(new Error('no ClickHouse in unit tests')),
    nats: () => Promise.reject(new Error('no NATS in unit tests')),
  }
}

const meta = (seq: number, arrivalTime = seq * 1000): RecordMeta => ({ seq, arrivalTime })

async function open(def: { open(c: never): unknown }, config: object): Promise<StatefulTransformProcessor> {
  return (await def.open(ctx(config) as never)) as StatefulTransformProcessor
}

const windowDefaults = { kind: 'tumbling', time: 'processing', lateness: '0s', late: 'reject', groupBy: [], aggregate: { n: 'count()' }, startField: 'window_start', endField: 'window_end', timeFormat: 'ms' }

/** Flattens results the way the runtime does; keeps keys and marks rejections. */
function flat(results: TransformResult[]): unknown[] {
  return results.flatMap((r) => (r === null ? [] : isRejection(r) ? [`reject: ${r.reason}`] : Array.isArray(r) ? r.map((x) => ({ ...x, _key: outputKey(x) })) : [{ ...r, _key: outputKey(r) }]))
}

describe('split', () => {
  it('words: lower-cased runs of Unicode letters or digits, empties dropped', () => {
    expect(words("It's 1813 — “Pride & Prejudice”, Élodie naïve 東京2!")).toEqual(['it', 's', '1813', 'pride', 'prejudice', 'élodie', 'naïve', '東京2'])
    expect(words('  ...  ')).toEqual([])
  })

  it('one record gives one record per word (keeping fields), arrays give one per element, bad fields are rejected', async () => {
    const p = (await splitPlugin.open(ctx({ mode: 'words', field: 'line', as: 'word', lowercase: false, keep: ['id'], onError: 'reject' }) as never)) as TransformProcessor
    expect(await p.process([{ id: 1, line: 'A b a' }, { id: 2, line: '' }, { id: 3 }])).toEqual([[{ id: 1, word: 'a' }, { id: 1, word: 'b' }, { id: 1, word: 'a' }], [], expect.objectContaining({ reason: 'line is missing, not text' })])
    const a = (await splitPlugin.open(ctx({ mode: 'array', field: 'items', as: 'item', lowercase: false, keep: [], onError: 'drop' }) as never)) as TransformProcessor
    expect(await a.process([{ items: [{ sku: 'x' }, 7] }, { items: 'no' }])).toEqual([[{ sku: 'x' }, { item: 7 }], null])
  })
})

describe('window plugin (processor level)', () => {
  it('event time from a field: emits keyed records with bounds and aggregates; late records rejected', async () => {
    const w = await open(windowPlugin, { ...windowDefaults, time: 'event', timeField: 'ts', every: '10s', groupBy: ['k'], aggregate: { n: 'count()', total: 'sum(v)' } })
    const res = await w.process(
      [
        { k: 'a', ts: 1000, v: 1 },
        { k: 'b', ts: '1970-01-01T00:00:05Z', v: 2 },
        { k: 'a', ts: 12_000, v: 3 },
        { k: 'a', ts: 9000, v: 4 },
        { k: 'a', ts: 'yesterday', v: 5 },
      ],
      [meta(1), meta(2), meta(3), meta(4), meta(5)],
    )
    expect(flat(res)).toEqual([
      { k: 'a', window_start: 0, window_end: 10_000, n: 1, total: 1, _key: '0|0|10000|["a"]' },
      { k: 'b', window_start: 0, window_end: 10_000, n: 1, total: 2, _key: '0|0|10000|["b"]' },
      'reject: late: time 1970-01-01T00:00:09.000Z falls only in windows already closed by the watermark 1970-01-01T00:00:12.000Z (allowed lateness 0s)',
      'reject: no event time: ts is "yesterday", not a timestamp (ms since the epoch or an ISO 8601 date-time)',
    ])
    // End of input: the open window is emitted; a later run's windows for the same span get new keys.
    expect(flat(w.finish!().map((x) => x))).toEqual([{ k: 'a', window_start: 10_000, window_end: 20_000, n: 1, total: 3, _key: '0|10000|20000|["a"]' }])
    await w.process([{ k: 'a', ts: 15_000, v: 1 }], [meta(6)])
    expect(w.finish!().map(outputKey)).toEqual(['1|10000|20000|["a"]'])
  })

  it('processing time: arrival times fill windows; tick() closes them while idle; late never happens', async () => {
    const w = await open(windowPlugin, { ...windowDefaults, every: '10s', aggregate: { n: 'count()' } })
    expect(flat(await w.process([{}, {}], [meta(1, 1000), meta(2, 4000)]))).toEqual([])
    expect(w.tick!(9999)).toEqual([])
    expect(flat(w.tick!(10_000))).toEqual([{ window_start: 0, window_end: 10_000, n: 2, _key: '0|0|10000|[]' }])
    // An arrival time behind the watermark (clock step) lands in the open window instead of being late.
    expect(flat(await w.process([{}], [meta(3, 3000)]))).toEqual([])
    expect(flat(w.finish!())).toEqual([{ window_start: 10_000, window_end: 20_000, n: 1, _key: '0|10000|20000|[]' }])
  })

  it('event time from the source (Trib-Event-Time → meta.eventTime), and a clear rejection without one', async () => {
    const w = await open(windowPlugin, { ...windowDefaults, time: 'event', every: '1m', timeFormat: 'datetime' })
    const res = await w.process([{}, {}], [{ seq: 1, arrivalTime: 0, eventTime: Date.UTC(2026, 2, 1, 10, 0, 30) }, { seq: 2, arrivalTime: 0 }])
    expect(flat(res)).toEqual(['reject: no event time: the source gave none (set `timeField` to read it from the record)'])
    expect(flat(w.finish!())).toEqual([{ window_start: '2026-03-01 10:00:00', window_end: '2026-03-01 10:01:00', n: 1, _key: '0|1772359200000|1772359260000|[]' }])
  })

  it('restore refuses state built by another configuration, naming the fix', async () => {
    const a = await open(windowPlugin, { ...windowDefaults, every: '10s' })
    const b = await open(windowPlugin, { ...windowDefaults, every: '20s' })
    expect(() => b.restore(JSON.parse(JSON.stringify(a.snapshot())))).toThrow(/another configuration.*new `id`/)
  })
})

describe('dedupe', () => {
  it('time horizon: a repeat within `within` of the first sighting is dropped, after it passes', async () => {
    const d = await open(dedupePlugin, { key: ['id'], within: '10s', time: 'event', timeField: 't' })
    const recs = [{ id: 1, t: 0 }, { id: 1, t: 9999 }, { id: 2, t: 5000 }, { id: 1, t: 10_000 }, { id: 1, t: 12_000 }]
    const res = await d.process(recs, recs.map((_, i) => meta(i + 1)))
    expect(res).toEqual([recs[0], null, recs[2], recs[3], null])
  })

  it('count horizon: only the last N distinct keys are remembered (a repeat refreshes)', () => {
    const m = new DedupeMemory({ last: 2 })
    // Without the refresh, `c` would evict `a` and the second repeat of `a` would pass.
    expect(['a', 'b', 'a', 'c', 'a', 'b'].map((k) => m.seen(k, 0))).toEqual([false, false, true, false, true, false])
    expect(m.size).toBe(2)
  })

  it('state survives a snapshot round trip', async () => {
    const d = await open(dedupePlugin, { key: [], last: 100, time: 'processing' })
    await d.process([{ x: 1 }], [meta(1)])
    const d2 = await open(dedupePlugin, { key: [], last: 100, time: 'processing' })
    d2.restore(JSON.parse(JSON.stringify(d.snapshot())))
    expect(await d2.process([{ x: 1 }, { x: 2 }], [meta(2), meta(3)])).toEqual([null, { x: 2 }])
  })
})

describe('aggregate', () => {
  it('each input emits its group’s running totals with a version', async () => {
    const a = await open(aggregatePlugin, { groupBy: ['u'], aggregate: { n: 'count()', spent: 'sum(v)', pages: 'distinct(p)' }, versionField: 'version' })
    const res = await a.process([{ u: 'x', v: 2, p: 'a' }, { u: 'y', v: 1, p: 'a' }, { u: 'x', v: 3, p: 'b' }, { u: 'x', v: 'oops' }], [meta(1), meta(2), meta(3), meta(4)])
    expect(flat(res)).toEqual([
      { u: 'x', n: 1, spent: 2, pages: 1, version: 1, _key: undefined },
      { u: 'y', n: 1, spent: 1, pages: 1, version: 1, _key: undefined },
      { u: 'x', n: 2, spent: 5, pages: 2, version: 2, _key: undefined },
      'reject: sum(v): v is "oops", not a number',
    ])
  })
})

describe('join (stream mode)', () => {
  it('interval join: matches within `within` either way, late records, left join emits unmatched lefts once no match can come', () => {
    const j = new IntervalJoin({ withinMs: 10, latenessMs: 0, type: 'left' })
    expect(j.add('left', 'o1', { o: 1 }, 100, 1)).toEqual({ late: false, matches: [], unmatched: [] })
    expect(j.add('right', 'o1', { p: 1 }, 110, 2)).toEqual({ late: false, matches: [[{ o: 1 }, { p: 1 }]], unmatched: [] }) // |Δ| = 10: matches
    expect(j.add('left', 'o2', { o: 2 }, 111, 3)).toEqual({ late: false, matches: [], unmatched: [] })
    expect(j.add('right', 'o2', { p: 2 }, 122, 4)).toEqual({ late: false, matches: [], unmatched: [] }) // |Δ| = 11: no
    expect(j.add('left', 'o3', { o: 3 }, 112, 5)).toEqual({ late: true }) // 112 <= W(122) - 10
    // W = 131: buffered records up to 131 - 20 = 111 expire; o2 never matched.
    expect(j.add('right', 'x', {}, 131, 6)).toEqual({ late: false, matches: [], unmatched: [{ rec: { o: 2 }, seq: 3 }] })
    expect(j.flush()).toEqual([])
  })

  it('plugin: orders with payments, merged; the unmatched order keyed by its input', async () => {
    const p = await open(joinPlugin, { mode: 'stream', on: 'order', type: 'left', left: 'kind == "order"', right: 'kind == "payment"', other: 'reject', within: '1m', time: 'event', timeField: 'ts', lateness: '0s', late: 'reject', into: 'merge', leftAs: 'left', rightAs: 'right' })
    const recs: JsonObject[] = [
      { kind: 'order', order: 'A', ts: '2026-03-01T10:00:00Z', amount: 10 },
      { kind: 'order', order: 'B', ts: '2026-03-01T10:00:10Z', amount: 20 },
      { kind: 'payment', order: 'A', ts: '2026-03-01T10:00:40Z', paid: true },
      { kind: 'refund', order: 'A', ts: '2026-03-01T10:00:41Z' },
    ]
    expect(flat(await p.process(recs, recs.map((_, i) => meta(i + 1))))).toEqual([
      { kind: 'payment', order: 'A', ts: '2026-03-01T10:00:40Z', amount: 10, paid: true, _key: undefined },
      'reject: neither a left nor a right record',
    ])
    expect(flat(p.finish!())).toEqual([{ kind: 'order', order: 'B', ts: '2026-03-01T10:00:10Z', amount: 20, _key: 'unmatched|2' }])
  })
})

describe('record helpers of the plugin API', () => {
  it('parseTimestamp: ms, ISO with and without zone (UTC), dates; junk is undefined', () => {
    expect(parseTimestamp(1234)).toBe(1234)
    expect(parseTimestamp('2026-03-01T10:00:00Z')).toBe(Date.UTC(2026, 2, 1, 10))
    expect(parseTimestamp('2026-03-01 10:00:00.250')).toBe(Date.UTC(2026, 2, 1, 10, 0, 0, 250))
    expect(parseTimestamp('2026-03-01T12:00:00+02:00')).toBe(Date.UTC(2026, 2, 1, 10))
    expect(parseTimestamp('2026-03-01')).toBe(Date.UTC(2026, 2, 1))
    expect(parseTimestamp('1')).toBeUndefined()
    expect(parseTimestamp(null)).toBeUndefined()
  })

  it('tableKey: plain keys as they are, anything else encoded to one valid KV key', () => {
    expect(tableKey('u42')).toBe('u42')
    expect(tableKey(42)).toBe('42')
    expect(tableKey('a@b.c')).toMatch(/^b64\.[A-Za-z0-9_-]+$/)
    expect(tableKey('')).toBe('b64.-')
    expect(tableKey(1.5)).not.toBe(tableKey('1.5x'))
  })
})
