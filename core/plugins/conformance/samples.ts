import type { JsonObject } from '../../plugin-api.js'

/** Ordinary records: what a transform or sink sees in a pipeline. */
export const SAMPLE_RECORDS: JsonObject[] = [
  { id: 1, name: 'alpha', value: 150, price: 9.5, country: 'FR', ok: true, tags: ['a', 'b'], ts: '2024-05-01T10:00:00Z' },
  { id: 2, name: 'beta', value: 50, price: 1.25, country: 'DE', ok: false, tags: [], ts: '2024-05-01T10:00:01Z' },
  { id: 3, name: 'gamma', value: 101, price: 0, country: 'US', ok: true, tags: ['c'], ts: '2024-05-01T10:00:02Z', nested: { city: 'Austin' } },
  { id: 4, name: 'delta', value: -7, price: 3.5, country: 'FR', ok: true, tags: ['a'], ts: '2024-05-01T10:00:03Z' },
  { id: 5, name: 'epsilon', value: 1000, price: 12, country: 'JP', ok: false, tags: ['b'], ts: '2024-05-01T10:00:04Z' },
  { id: 6, name: 'zeta', value: 0, price: 7.75, country: 'BR', ok: true, tags: [], ts: '2024-05-01T10:00:05Z', nested: { city: 'Recife' } },
]

/**
 * Records a plugin may not expect (missing fields, wrong types, nulls, deep nesting): it must
 * return a result for each — reject() sends one to the dead-letter queue — instead of throwing,
 * which would fail the whole batch.
 */
export const ODD_RECORDS: JsonObject[] = [{}, { id: 'x', value: 'not a number', price: null }, { value: null, nested: null, tags: 'a' }, { deep: { a: [1, { b: [] }], c: { d: { e: true } } } }]
