import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { connect } from '@nats-io/transport-node'
import type { NatsConnection } from '@nats-io/nats-core'
import { startNatsServer } from '../helpers/nats-server.js'
import { makeTempDir } from '../helpers/tmp.js'
import { readDlq } from '../helpers/dlq.js'
import { runPipelineFile } from '../../core/app/run-pipeline.js'

let nats: Awaited<ReturnType<typeof startNatsServer>>
let tmp: Awaited<ReturnType<typeof makeTempDir>>
let nc: NatsConnection
let env: NodeJS.ProcessEnv
let home: string
let server: Server
let base: string

interface Received {
  key: string
  headers: IncomingHttpHeaders
  body: unknown
}

/** A receiver that fails its first N requests per route (503, 429, a dropped connection, 500), then accepts. */
const routes: Record<string, { failuresLeft: number; failedKeys: Set<string>; ok: Received[] }> = {
  '/alerts': { failuresLeft: 9, failedKeys: new Set(), ok: [] },
  '/digest': { failuresLeft: 3, failedKeys: new Set(), ok: [] },
}

beforeAll(async () => {
  ;[nats, tmp] = await Promise.all([startNatsServer(), makeTempDir('webhook')])
  nc = await connect({ servers: nats.url })
  env = { ...process.env, NATS_URL: nats.url }
  home = path.join(tmp.dir, 'home')
  server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const route = routes[req.url ?? '']
      const key = String(req.headers['idempotency-key'] ?? '')
      if (!route) return res.writeHead(404).end()
      if (route.failuresLeft > 0) {
        const n = route.failuresLeft--
        route.failedKeys.add(key)
        if (n % 4 === 0) return req.socket.destroy() // a network error
        if (n % 4 === 1) return res.writeHead(429, { 'retry-after': '0' }).end('slow down')
        return res.writeHead(n % 2 ? 503 : 500).end('try later')
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { bad?: boolean }
      if (!Array.isArray(body) && body.bad) return res.writeHead(400).end('bad record')
      route.ok.push({ key, headers: req.headers, body })
      res.writeHead(200).end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server?.closeAllConnections()
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  await nc?.close()
  await nats?.stop()
  await tmp?.remove()
})

describe('webhook sink against a receiver that fails, then recovers', () => {
  it('delivers every record exactly once with stable idempotency keys, refuses 4xx records to the DLQ, and sends batches', async () => {
    const input = Array.from({ length: 60 }, (_, i) => ({ id: i + 1, bad: i + 1 === 13 || i + 1 === 47 }))
    await writeFile(path.join(tmp.dir, 'alerts.ndjson'), input.map((r) => JSON.stringify(r)).join('\n') + '\n')
    const file = path.join(tmp.dir, 'alerts.yaml')
    await writeFile(file, `name: alerts
source: { use: file, config: { path: alerts.ndjson } }
sinks:
  - id: alert
    use: webhook
    config: { url: "${base}/alerts", headers: { X-Api-Key: k1 }, maxRetries: 2, backoff: 10ms, maxBackoff: 50ms, concurrency: 2, ratePerSecond: 1000, burst: 5 }
  - id: digest
    use: webhook
    where: "!bad"
    config: { url: "${base}/digest", batch: true, batchSize: 20, maxRetries: 1, backoff: 10ms }
`)
    const summary = await runPipelineFile(file, { home, env })
    expect(summary.completed).toBe(true)

    const good = input.filter((r) => !r.bad).map((r) => r.id)
    const alerts = routes['/alerts']!
    expect(alerts.failuresLeft).toBe(0)
    // Each good record delivered once, under its own key.
    expect(alerts.ok.map((r) => (r.body as { id: number }).id).sort((a, b) => a - b)).toEqual(good)
    const keys = alerts.ok.map((r) => r.key)
    expect(new Set(keys).size).toBe(good.length)
    expect(keys.every((k) => /^alerts:file:\d+:\d+@alert$/.test(k))).toBe(true)
    expect(alerts.ok.every((r) => r.headers['x-api-key'] === 'k1' && r.headers['content-type'] === 'application/json')).toBe(true)
    // A failed attempt's key is the key its record was finally delivered (or refused) under.
    const badKeys = new Set(['alerts:file:0:13@alert', 'alerts:file:0:47@alert'])
    for (const k of alerts.failedKeys) expect(keys.includes(k) || badKeys.has(k)).toBe(true)

    const digest = routes['/digest']!
    expect(digest.failuresLeft).toBe(0)
    const batched = digest.ok.flatMap((r) => (r.body as { id: number }[]).map((x) => x.id))
    expect(batched.sort((a, b) => a - b)).toEqual(good)
    expect(digest.ok.every((r) => (r.body as unknown[]).length <= 20)).toBe(true)
    const digestKeys = digest.ok.map((r) => r.key)
    expect(new Set(digestKeys).size).toBe(digest.ok.length)
    for (const k of digest.failedKeys) expect(digestKeys).toContain(k)

    const dlq = await readDlq(nc, 'alerts')
    expect(dlq.map((d) => (JSON.parse(d.data) as { id: number }).id).sort((a, b) => a - b)).toEqual([13, 47])
    for (const d of dlq) {
      expect(d.headers['Trib-Stage']).toBe('alert')
      expect(d.headers['Trib-Reason']).toMatch(/^HTTP 400 from http:\/\/127\.0\.0\.1:\d+\/alerts: bad record$/)
    }
  })
})
