import { describe, expect, it } from 'vitest'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Registry } from 'prom-client'
import { createRouteTable } from '../../core/http/routes.js'
import { pluginMetrics } from '../../core/metrics/plugin-metrics.js'

const req = (url: string): IncomingMessage => ({ url }) as IncomingMessage
const res = {} as ServerResponse

describe('routes on the runtime HTTP port (ctx.http)', () => {
  it('routes a prefix and the paths below it to its handler, the longest prefix first', () => {
    const seen: string[] = []
    const t = createRouteTable(() => 'http://127.0.0.1:1')
    t.routes.route('/push', { request: (r) => seen.push(`push ${r.url}`) })
    const remove = t.routes.route('/push/ops', { request: (r) => seen.push(`ops ${r.url}`) })
    expect(t.request(req('/push/ops?token=x'), res)).toBe(true)
    expect(t.request(req('/push/ops/view'), res)).toBe(true)
    expect(t.request(req('/push/opsx'), res)).toBe(true)
    expect(t.request(req('/metrics'), res)).toBe(false)
    remove()
    expect(t.request(req('/push/ops'), res)).toBe(true)
    expect(seen).toEqual(['ops /push/ops?token=x', 'ops /push/ops/view', 'push /push/opsx', 'push /push/ops'])
  })

  it('refuses a taken prefix, the runtime\'s own paths, and routes while no port is served', () => {
    const t = createRouteTable(() => 'http://127.0.0.1:1')
    t.routes.route('/push/ops', { request: () => undefined })
    expect(() => t.routes.route('/push/ops', { request: () => undefined })).toThrow('/push/ops is already served')
    expect(() => t.routes.route('/metrics', { request: () => undefined })).toThrow(/cannot serve "\/metrics"/)
    expect(() => t.routes.route('push', { request: () => undefined })).toThrow(/a route is a path/)
    const none = createRouteTable(() => undefined)
    expect(none.routes.url).toBeUndefined()
    expect(() => none.routes.route('/push/ops', { request: () => undefined })).toThrow('cannot serve /push/ops: the runtime serves no HTTP port')
  })
})

describe('plugin metrics (ctx.metrics)', () => {
  it('two stages of a plugin share a series, told apart by their stage label', async () => {
    const registry = new Registry()
    const a = pluginMetrics(registry, 'p', 'a').counter('tributary_test_events_total', 'events', ['team'])
    const b = pluginMetrics(registry, 'p', 'b').counter('tributary_test_events_total', 'events', ['team'])
    a.inc({ team: 'ops' }, 2)
    b.inc({ team: 'ops' })
    const g = pluginMetrics(registry, 'p', 'a').gauge('tributary_test_clients', 'clients')
    g.inc()
    g.inc()
    g.dec()
    const text = await registry.metrics()
    expect(text).toContain('tributary_test_events_total{pipeline="p",stage="a",team="ops"} 2')
    expect(text).toContain('tributary_test_events_total{pipeline="p",stage="b",team="ops"} 1')
    expect(text).toContain('tributary_test_clients{pipeline="p",stage="a"} 1')
    expect(() => pluginMetrics(registry, 'p', 'c').gauge('tributary_test_events_total', 'x', ['team'])).toThrow(/already exists as another kind/)
    expect(() => pluginMetrics(registry, 'p', 'c').counter('tributary_test_x', 'x', ['stage'])).toThrow(/label "stage" is not allowed/)
  })
})
