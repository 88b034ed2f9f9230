import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { connect } from '@nats-io/transport-node'
import type { NatsConnection } from '@nats-io/nats-core'
import { startNatsServer } from '../helpers/nats-server.js'
import { makeTempDir } from '../helpers/tmp.js'
import { countSubject, offsetOf, readSubject } from '../helpers/stream.js'
import { assertBuilt, runCli, spawnCli, waitFor, type Background } from '../helpers/cli.js'

// The compiled CLI polls a local API served by this test process. Records are counted where
// the source puts them: the pipeline's stream on trib.<name>.http-poll.
let nats: Awaited<ReturnType<typeof startNatsServer>>
let tmp: Awaited<ReturnType<typeof makeTempDir>>
let nc: NatsConnection
let env: NodeJS.ProcessEnv
let api: http.Server
let base: string
const children: Background[] = []

interface Rec {
  id: number
  value: number
}
const events: Rec[] = []
const latest: Rec[] = []
const many: Rec[] = []
/** `after` of each /events request, in order ('' when absent). */
const afters: string[] = []
let failNext = 0

beforeAll(async () => {
  assertBuilt()
  ;[nats, tmp] = await Promise.all([startNatsServer(), makeTempDir('http-poll')])
  nc = await connect({ servers: nats.url })
  env = { ...process.env, NATS_URL: nats.url, TRIBUTARY_HOME: path.join(tmp.dir, 'home'), API_TOKEN: 'tok-123' }
  api = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    if (url.pathname === '/events') {
      afters.push(url.searchParams.get('after') ?? '')
      if (failNext > 0) {
        failNext--
        return send(503, { error: 'maintenance' })
      }
      // Pages of 50 after the cursor, overlapping the previous page by 5 records: the cursor
      // moves the window, dedupeBy drops the overlap.
      const after = Number(url.searchParams.get('after') ?? 0)
      const page = events.filter((e) => e.id > after - 5).slice(0, 50)
      return send(200, { data: { items: page, total: events.length } })
    }
    if (url.pathname === '/many') {
      const after = Number(url.searchParams.get('after') ?? 0)
      return send(200, many.filter((e) => e.id > after - 5).slice(0, 50))
    }
    if (url.pathname === '/latest' && req.method === 'POST') {
      let body = ''
      req.on('data', (d: Buffer) => (body += d.toString()))
      req.on('end', () => {
        if (req.headers.authorization !== 'Bearer tok-123') return send(401, { error: 'bad token' })
        if (req.headers['content-type'] !== 'application/json' || body !== '{"window":20}') return send(400, { error: `bad body ${body}` })
        // The latest 20 only: older records scroll out of reach.
        send(200, latest.slice(-20))
      })
      return
    }
    send(404, { error: 'no such path' })
  })
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', () => resolve()))
  base = `http://127.0.0.1:${(api.address() as AddressInfo).port}`
})

afterAll(async () => {
  for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL')
  api?.closeAllConnections()
  await new Promise((resolve) => api?.close(resolve))
  await nc?.close()
  await nats?.stop()
  await tmp?.remove()
})

function add(list: Rec[], from: number, to: number): void {
  for (let id = from; id <= to; id++) list.push({ id, value: id * 3 })
}

async function stop(run: Background): Promise<void> {
  run.child.kill('SIGTERM')
  expect(await run.exited, run.stderr()).toBe(0)
}

describe('http-poll source (real nats-server, compiled CLI, local API)', () => {
  it('pages with the cursor, skips the overlap, survives API errors, and continues after a restart without emitting a record twice', async () => {
    add(events, 1, 120)
    const file = path.join(tmp.dir, 'poll.yaml')
    await writeFile(file, `name: polled
source:
  use: http-poll
  config:
    url: ${base}/events
    interval: 200ms
    recordsAt: data.items
    dedupeBy: id
    cursor: { field: id, param: after }
sinks: [ { use: stdout } ]
`)
    failNext = 1 // the very first poll fails: retried with back-off
    const first = spawnCli(['run', file], env)
    children.push(first)
    await waitFor('120 records in the stream', async () => (await countSubject(nc, 'polled', 'http-poll')) === 120)
    // Caught up: the API is asked again from the last id, and gives nothing new.
    await waitFor('a poll after caught up', () => afters.filter((a) => a === '120').length >= 2)
    await stop(first)
    expect(first.stderr()).toMatch(/answered 503 Service Unavailable/)
    expect(afters.slice(0, 5)).toEqual(['', '', '50', '95', '120'])

    add(events, 121, 200)
    const before = afters.length
    failNext = 2
    const second = spawnCli(['run', file], env)
    children.push(second)
    await waitFor('200 records in the stream', async () => (await countSubject(nc, 'polled', 'http-poll')) === 200)
    await stop(second)
    // The restart resumed from the saved cursor (twice refused, then served), never from the start.
    expect(afters.slice(before, before + 5)).toEqual(['120', '120', '120', '165', '200'])

    const entries = await readSubject(nc, 'polled', 'http-poll')
    expect(entries).toHaveLength(200)
    const ids = entries.map((e) => (JSON.parse(e.data) as Rec).id)
    expect(ids).toEqual(Array.from({ length: 200 }, (_, i) => i + 1))
    for (const e of entries) expect((JSON.parse(e.data) as Rec).value).toBe((JSON.parse(e.data) as Rec).id * 3)
    const offsets = entries.map((e) => offsetOf(e.msgId))
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b))
    expect(new Set(offsets).size).toBe(200)
  })

  it('once: POSTs with headers from the environment, dedupes a sliding window across runs, and ends the run', async () => {
    add(latest, 1, 30)
    const file = path.join(tmp.dir, 'latest.yaml')
    await writeFile(file, `name: latest
source:
  use: http-poll
  config:
    url: ${base}/latest
    method: POST
    body: { window: 20 }
    headers: { Authorization: "Bearer \${env:API_TOKEN}" }
    dedupeBy: "'r' + string(id)"
    once: true
sinks: [ { use: stdout } ]
`)
    const r1 = await runCli(['run', file], env)
    expect(r1.code, r1.stderr).toBe(0)
    expect(r1.stdout.trim().split('\n').map((l) => (JSON.parse(l) as Rec).id)).toEqual(Array.from({ length: 20 }, (_, i) => i + 11))
    expect(r1.stderr).not.toContain('tok-123')

    add(latest, 31, 35)
    const r2 = await runCli(['run', file], env)
    expect(r2.code, r2.stderr).toBe(0)
    expect(r2.stdout.trim().split('\n').map((l) => (JSON.parse(l) as Rec).id)).toEqual([31, 32, 33, 34, 35])

    const r3 = await runCli(['run', file], env)
    expect(r3.code, r3.stderr).toBe(0)
    expect(r3.stdout).toBe('')

    const entries = await readSubject(nc, 'latest', 'http-poll')
    expect(entries.map((e) => (JSON.parse(e.data) as Rec).id)).toEqual(Array.from({ length: 25 }, (_, i) => i + 11))
    expect(new Set(entries.map((e) => e.msgId)).size).toBe(25)
  })

  it('kill -9 while paging: the restart re-reads the unsaved tail under the same offsets, so the stream holds each record once', async () => {
    add(many, 1, 3000)
    const file = path.join(tmp.dir, 'many.yaml')
    await writeFile(file, `name: many
source:
  use: http-poll
  config: { url: ${base}/many, interval: 100ms, dedupeBy: id, cursor: { field: id, param: after } }
sinks: [ { use: stdout } ]
`)
    const first = spawnCli(['run', file], env)
    children.push(first)
    await waitFor('paging under way', async () => (await countSubject(nc, 'many', 'http-poll')) >= 600)
    first.child.kill('SIGKILL')
    await first.exited
    const atKill = await countSubject(nc, 'many', 'http-poll')

    const second = spawnCli(['run', file], env)
    children.push(second)
    await waitFor('3000 records in the stream', async () => (await countSubject(nc, 'many', 'http-poll')) === 3000)
    await stop(second)
    const entries = await readSubject(nc, 'many', 'http-poll')
    expect(entries.map((e) => (JSON.parse(e.data) as Rec).id)).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1))
    expect(atKill).toBeLessThan(3000)
  })
})
