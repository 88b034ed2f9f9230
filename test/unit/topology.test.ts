import { describe, expect, it } from 'vitest'
import { compileTopology } from '../../core/runtime/topology.js'
import type { PipelineSpec, StageSpec } from '../../core/pipeline/types.js'

const stage = (id: string, kind: StageSpec['kind'], extra: Partial<StageSpec> = {}): StageSpec => ({ id, kind, use: id.replace(/-\d+$/, ''), config: {}, path: id, ...extra })
const spec = (transforms: StageSpec[], sinks: StageSpec[]): PipelineSpec => ({
  name: 'orders',
  file: '',
  baseDir: '.',
  source: stage('file', 'source'),
  transforms,
  sinks,
  retention: { maxAgeMs: 0, maxBytes: 1 << 30, duplicateWindowMs: 120_000 },
  delivery: { maxDeliver: 5, ackWaitMs: 60_000 },
  replicas: 1,
  secrets: [],
})

describe('topology: fusion and boundaries', () => {
  it('fuses stateless transforms with the sinks after them: one hop', () => {
    const t = compileTopology(spec([stage('filter', 'transform'), stage('map', 'transform')], [stage('clickhouse', 'sink'), stage('stdout', 'sink')]))
    expect(t.sourceSubject).toBe('trib.orders.file')
    expect(t.groups).toHaveLength(1)
    expect(t.groups[0]).toMatchObject({ id: 'filter', consumer: 'orders--filter', inputSubject: 'trib.orders.file' })
    expect(t.groups[0]!.outputSubject).toBeUndefined()
    expect(t.groups[0]!.sinks.map((s) => s.id)).toEqual(['clickhouse', 'stdout'])
  })

  it('sinks only: the group is named after the first sink', () => {
    const t = compileTopology(spec([], [stage('clickhouse', 'sink')]))
    expect(t.groups.map((g) => g.consumer)).toEqual(['orders--clickhouse'])
  })

  it('adds a boundary before a stateful stage and where the file asks', () => {
    const t = compileTopology(
      spec([stage('filter', 'transform'), stage('window', 'transform'), stage('map', 'transform'), stage('map-2', 'transform', { boundary: true })], [stage('clickhouse', 'sink')]),
      (s) => s.use === 'window',
    )
    expect(t.groups.map((g) => [g.id, g.inputSubject, g.outputSubject ?? null, g.transforms.map((x) => x.id), g.sinks.map((x) => x.id)])).toEqual([
      ['filter', 'trib.orders.file', 'trib.orders.filter', ['filter'], []],
      ['window', 'trib.orders.filter', 'trib.orders.map', ['window', 'map'], []],
      ['map-2', 'trib.orders.map', null, ['map-2'], ['clickhouse']],
    ])
  })

  it('a slow sink marked boundary reads the transforms\' output on its own consumer', () => {
    const t = compileTopology(spec([stage('map', 'transform')], [stage('clickhouse', 'sink'), stage('webhook', 'sink', { boundary: true })]))
    expect(t.groups.map((g) => [g.consumer, g.inputSubject, g.outputSubject ?? null, g.sinks.map((s) => s.id)])).toEqual([
      ['orders--map', 'trib.orders.file', 'trib.orders.map', ['clickhouse']],
      ['orders--webhook', 'trib.orders.map', null, ['webhook']],
    ])
  })
})
