import { describe, expect, it } from 'vitest'
import { diffRevisions, formatChanges, pipelineSummary } from '../../core/fleet/stage-diff.js'
import { pipelinePermissions, workerPermissions, formatUserConfig } from '../../core/fleet/permissions.js'
import { checkFleetSpec, sourceRunsOnEveryWorker } from '../../core/fleet/fleet-checks.js'
import { checkFleetName, deploymentsBucket, leaseKey, leasesBucket, workersBucket } from '../../core/fleet/names.js'
import { loadPipelineFromText } from '../../core/pipeline/load.js'
import { createRegistry, builtinPluginsDir } from '../../core/plugins/registry.js'
import type { PipelineSpec, StageSpec } from '../../core/pipeline/types.js'

const stage = (id: string, kind: StageSpec['kind'], config: StageSpec['config'] = {}, use = id): StageSpec => ({ id, kind, use, config, path: id })
const base: PipelineSpec = {
  name: 'orders',
  file: '/p/orders.yaml',
  baseDir: '/p',
  source: stage('file', 'source', { path: '/p/in.ndjson' }),
  transforms: [stage('filter', 'transform', { where: 'value > 1' })],
  sinks: [stage('clickhouse', 'sink', { table: 'orders', password: 's3cret' })],
  retention: { maxAgeMs: 7 * 86_400_000, maxBytes: 1024 ** 3, duplicateWindowMs: 120_000 },
  delivery: { maxDeliver: 5, ackWaitMs: 60_000 },
  replicas: 1,
  secrets: ['s3cret'],
}

describe('revision changes', () => {
  it('first deploy adds every stage', () => {
    expect(diffRevisions(undefined, base).map((c) => [c.action, c.name])).toEqual([
      ['add', 'file'],
      ['add', 'filter'],
      ['add', 'clickhouse'],
    ])
  })

  it('matches stages by id, names changed config keys without their values, and pipeline settings', () => {
    const next: PipelineSpec = {
      ...base,
      transforms: [stage('filter', 'transform', { where: 'value > 2' }), stage('map', 'transform')],
      sinks: [stage('clickhouse', 'sink', { table: 'orders', password: 'other' })],
      replicas: 3,
    }
    const changes = diffRevisions(base, next)
    expect(changes).toEqual([
      { action: 'keep', name: 'file', detail: 'source file' },
      { action: 'change', name: 'filter', detail: 'transform filter: config where' },
      { action: 'add', name: 'map', detail: 'transform map' },
      { action: 'change', name: 'clickhouse', detail: 'sink clickhouse: config password' },
      { action: 'change', name: 'pipeline', detail: 'replicas 1 → 3 (an existing stream keeps its replicas)' },
    ])
    const text = formatChanges(changes, 'revision 1 (running)')
    expect(text).not.toContain('s3cret')
    expect(text).not.toContain('other')
    expect(diffRevisions(next, base).find((c) => c.name === 'map')).toEqual({ action: 'remove', name: 'map', detail: 'transform map' })
    expect(pipelineSummary(next)).toBe('file → filter → map → clickhouse')
  })
})

describe('least-privilege permissions', () => {
  it("a pipeline's user reaches its subjects, stream API, state bucket and run lease key, and writes nothing of another pipeline", () => {
    const p = pipelinePermissions('orders')
    expect(p.publish.allow).toEqual(expect.arrayContaining(['$JS.API.INFO', 'trib.orders.>', '$JS.API.STREAM.INFO.TRIB_ORDERS', '$JS.API.CONSUMER.MSG.NEXT.TRIB_ORDERS.>', '$JS.ACK.TRIB_ORDERS.>', '$KV.trib-state-orders.>', '$JS.API.DIRECT.GET.KV_trib-state-orders.>', '$KV.trib-run-leases.orders']))
    expect(p.subscribe.allow).toEqual(['_INBOX.>', 'trib.orders.>'])
    // The run-lease bucket is shared by all pipelines: its info, creation and message reads only
    // (who runs what), never a purge, a delete or a consumer.
    const shared = ['$JS.API.STREAM.INFO.KV_trib-run-leases', '$JS.API.STREAM.CREATE.KV_trib-run-leases', '$JS.API.STREAM.MSG.GET.KV_trib-run-leases']
    // Every other subject names this pipeline (or is the account check / the inbox): no wildcard reaches another one.
    for (const s of [...p.publish.allow, ...p.subscribe.allow]) {
      if (s === '$JS.API.INFO' || s === '_INBOX.>' || shared.includes(s)) continue
      expect(s).toMatch(/orders|ORDERS/)
      expect(s).not.toMatch(/^\$JS\.API\.[A-Z.]*>$/)
    }
    expect(pipelinePermissions('orders-eu').publish.allow.filter((s) => p.publish.allow.includes(s))).toEqual(['$JS.API.INFO', ...shared])
  })

  it("a worker's own user reaches the fleet's three buckets only", () => {
    const w = workerPermissions('prod')
    for (const b of [deploymentsBucket('prod'), workersBucket('prod'), leasesBucket('prod')]) expect(w.publish.allow).toContain(`$KV.${b}.>`)
    expect(w.publish.allow.some((s) => s.startsWith('trib.'))).toBe(false)
  })

  it('renders a nats-server user entry', () => {
    const text = formatUserConfig('orders', '$ORDERS_NATS_PASSWORD', { publish: { allow: ['a', 'b'] }, subscribe: { allow: ['_INBOX.>'] } })
    expect(text).toBe(['{', '  user: "orders"', '  password: $ORDERS_NATS_PASSWORD', '  permissions: {', '    publish: { allow: [', '      "a",', '      "b"', '    ] }', '    subscribe: { allow: [', '      "_INBOX.>"', '    ] }', '  }', '}'].join('\n'))
  })
})

describe('what a fleet may run', () => {
  const registry = createRegistry({ builtinDir: builtinPluginsDir(), extraDirs: [] })
  const load = async (sink: string, source = '{ use: generate, config: { template: { id: "i" } } }') =>
    loadPipelineFromText(`name: f\nsource: ${source}\nsinks: [ ${sink} ]\n`, '/p/f.yaml', await registry)

  it('refuses embedded ClickHouse, with the reason and the fix', async () => {
    const r = await registry
    const spec = await load('{ use: clickhouse, config: { table: t, columns: { id: UInt64 } } }')
    let err: unknown
    try {
      checkFleetSpec(spec, r)
    } catch (e) {
      err = e
    }
    expect(err).toMatchObject({ code: 'E_FLEET', message: expect.stringMatching(/would use embedded ClickHouse \(chDB\)/), hint: expect.stringMatching(/ClickHouse in a fleet is a server: set `url`/) })
  })

  it('accepts a ClickHouse server, and tells sources that run on every worker from those under a lease', async () => {
    const r = await registry
    const spec = await load('{ use: clickhouse, config: { url: "http://127.0.0.1:8123", table: t, columns: { id: UInt64 } } }')
    expect(() => checkFleetSpec(spec, r)).not.toThrow()
    expect(sourceRunsOnEveryWorker(spec, r)).toBe(false)
    const http = await load('{ use: stdout }', '{ use: http, config: { port: 8080 } }')
    expect(sourceRunsOnEveryWorker(http, r)).toBe(true)
  })

  it('names', () => {
    expect(checkFleetName('prod-eu')).toBe('prod-eu')
    expect(() => checkFleetName('Prod')).toThrow(/not a valid fleet name/)
    expect(leaseKey('orders', 'source')).toBe('orders.source')
  })
})
