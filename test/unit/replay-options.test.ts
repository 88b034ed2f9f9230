import { describe, expect, it } from 'vitest'
import { parseSince } from '../../core/replay/since.js'
import { formatProgress } from '../../core/replay/progress.js'
import { redirectSinks } from '../../core/replay/into-table.js'
import type { PipelineSpec, StageSpec } from '../../core/pipeline/types.js'

const stage = (id: string, kind: StageSpec['kind'], use: string, config: StageSpec['config'] = {}): StageSpec => ({ id, kind, use, config, path: id })
const spec = (sinks: StageSpec[]): PipelineSpec => ({
  name: 'orders',
  file: '',
  baseDir: '.',
  source: stage('file', 'source', 'file'),
  transforms: [stage('filter', 'transform', 'filter')],
  sinks,
  retention: { maxAgeMs: 0, maxBytes: 1 << 30, duplicateWindowMs: 120_000 },
  delivery: { maxDeliver: 5, ackWaitMs: 60_000 },
  replicas: 1,
  secrets: [],
})

describe('replay --since', () => {
  const now = Date.parse('2024-05-01T12:00:00Z')
  it('takes a duration back from now or an ISO time', () => {
    expect(parseSince('2h', now).toISOString()).toBe('2024-05-01T10:00:00.000Z')
    expect(parseSince('7d', now).toISOString()).toBe('2024-04-24T12:00:00.000Z')
    expect(parseSince('2024-04-30T08:30:00Z', now).toISOString()).toBe('2024-04-30T08:30:00.000Z')
    expect(parseSince('2024-04-30', now).toISOString()).toBe('2024-04-30T00:00:00.000Z')
  })
  it('refuses anything else with the forms it takes', () => {
    for (const bad of ['yesterday', '2 hours', '', '12']) expect(() => parseSince(bad, now)).toThrow(expect.objectContaining({ code: 'E_USAGE' }))
  })
})

describe('replay progress', () => {
  it('shows done/total, rate and ETA', () => {
    expect(formatProgress({ done: 12_000, total: 50_000, elapsedMs: 1500 })).toBe('replay: 12.0k/50.0k records (24%), 8000/s, ETA 5s')
    expect(formatProgress({ done: 50_000, total: 50_000, elapsedMs: 10_000 })).toBe('replay: 50.0k/50.0k records (100%), 5000/s')
    expect(formatProgress({ done: 0, total: 2_000_000, elapsedMs: 0 })).toBe('replay: 0/2.0M records (0%), 0/s')
  })
})

describe('replay --into-table', () => {
  it('redirects every clickhouse sink to the new table and leaves the other sinks out', () => {
    const r = redirectSinks(spec([stage('clickhouse', 'sink', 'clickhouse', { table: 'events', url: 'http://h:8123' }), stage('webhook', 'sink', 'webhook', { url: 'http://x' })]), 'events_v2')
    expect(r.spec.sinks.map((s) => [s.id, s.config.table])).toEqual([['clickhouse', 'events_v2']])
    expect(r.target).toEqual({ original: 'events', into: 'events_v2', connection: { url: 'http://h:8123' } })
    expect(r.skipped).toEqual(['webhook'])
  })
  it('refuses a pipeline without clickhouse sink, sinks on different tables, and the original’s own name', () => {
    expect(() => redirectSinks(spec([stage('stdout', 'sink', 'stdout')]), 't')).toThrow(expect.objectContaining({ code: 'E_USAGE' }))
    const two = spec([stage('a', 'sink', 'clickhouse', { table: 'x' }), stage('b', 'sink', 'clickhouse', { table: 'y' })])
    expect(() => redirectSinks(two, 't')).toThrow(/write different tables/)
    expect(() => redirectSinks(spec([stage('a', 'sink', 'clickhouse', { table: 'x' })]), 'x')).toThrow(/own table/)
    expect(() => redirectSinks(spec([stage('a', 'sink', 'clickhouse', { table: 'x' })]), 'bad name')).toThrow(expect.objectContaining({ code: 'E_CONFIG' }))
  })
})
