/**
 * The push sink in a real run (compiled CLI, real nats-server): SSE and WebSocket clients get
 * exactly their channel's records, tokens are checked, a stalled client is cut off or loses its
 * oldest records by policy while the others' counts stay exact, a reconnect with Last-Event-ID
 * gets exactly what it missed (from memory and read back from the history stream), and a TLS
 * channel on a port of its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFileSync } from 'node:child_process'
import { appendFile, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { assertBuilt, runCli, spawnCli, waitFor, type Background } from '../helpers/cli.js'
import { startNatsServer, type TestNatsServer } from '../helpers/nats-server.js'
import { makeTempDir } from '../helpers/tmp.js'
import { metricValue, sseClient, wsClient, type PushClient } from '../helpers/push-clients.js'

const OPS = 'ops-token-0123'
const ANALYSTS = 'analysts-token-4567'
const PAD = 'x'.repeat(1500)

let tmp: Awaited<ReturnType<typeof makeTempDir>>
let nats: TestNatsServer
let run: Background | undefined
let input: string
let written = 0
let metricsUrl: string
const urls: Record<string, string> = {}
let ca: Buffer
const clients: PushClient[] = []

/** Appends `n` records to the followed input: every third is an alert. */
async function feed(n: number): Promise<void> {
  const lines: string[] = []
  for (let i = 0; i < n; i++) {
    const id = ++written
    lines.push(JSON.stringify({ n: id, kind: id % 3 === 0 ? 'alert' : 'info', pad: PAD }))
  }
  await appendFile(input, lines.join('\n') + '\n')
}

const alertsUpTo = (n: number): number[] => Array.from({ length: Math.floor(n / 3) }, (_, i) => 3 * (i + 1))
const ns = (c: { records(): { record: Record<string, unknown> }[] }): number[] => c.records().map((r) => r.record.n as number)
const auth = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })
function sse(url: string, opts: Parameters<typeof sseClient>[1] = {}): PushClient {
  const c = sseClient(url, opts)
  clients.push(c)
  return c
}

beforeAll(async () => {
  assertBuilt()
  ;[tmp, nats] = await Promise.all([makeTempDir('push-sink'), startNatsServer()])
  input = path.join(tmp.dir, 'in.ndjson')
  await writeFile(input, '')
  await writeFile(path.join(tmp.dir, 'analysts.token'), `${ANALYSTS}\n`)
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(tmp.dir, 'key.pem'), '-out', path.join(tmp.dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' })
  ca = await readFile(path.join(tmp.dir, 'cert.pem'))
  await writeFile(
    path.join(tmp.dir, 'live.yaml'),
    `name: livepush
source: { use: file, config: { path: in.ndjson, follow: true, pollInterval: 20ms, batchSize: 500 } }
metrics: { port: 0 }
sinks:
  - id: alerts
    use: push
    where: 'kind == "alert"'
    config: { tokens: { ops: "\${env:OPS_TOKEN}", analysts: "\${file:analysts.token}" }, ring: 20 }
  - id: all
    use: push
    config: { tokens: ["\${env:OPS_TOKEN}"], policy: disconnect, buffer: 50, ring: 20 }
  - id: bulk
    use: push
    config: { tokens: ["\${env:OPS_TOKEN}"], policy: drop-oldest, buffer: 50 }
  - id: secure
    use: push
    where: 'kind == "alert"'
    config: { tokens: ["\${env:OPS_TOKEN}"], port: 0, tls: { cert: cert.pem, key: key.pem } }
`,
  )
  await startRun()
})

/** Runs live.yaml through the compiled CLI and reads its channels' URLs (free ports) from its log. */
async function startRun(): Promise<void> {
  for (const k of Object.keys(urls)) delete urls[k]
  run = spawnCli(['run', path.join(tmp.dir, 'live.yaml')], { ...process.env, NATS_URL: nats.url, TRIBUTARY_HOME: path.join(tmp.dir, 'home'), OPS_TOKEN: OPS })
  await waitFor('the run to serve its four channels', () => {
    for (const line of run!.stderr().split('\n')) {
      if (!line.startsWith('{')) continue
      const l = JSON.parse(line) as { msg: string; metrics?: string; channel?: string; url?: string }
      if (l.metrics) metricsUrl = l.metrics
      if (l.channel && l.url) urls[l.channel] = l.url
    }
    return Object.keys(urls).length === 4 && /pipeline running/.test(run!.stderr())
  }, 60_000)
}

afterAll(async () => {
  for (const c of clients) c.close()
  if (run?.child.exitCode === null && run.child.pid) process.kill(run.child.pid, 'SIGKILL')
  await run?.exited
  await nats?.stop()
  await tmp?.remove()
})

describe('push sink (real run, real nats-server)', () => {
  it('refuses a wrong or missing token (401), a filter that does not parse (400), a resume id that is not one (400)', async () => {
    expect(await sse(urls.alerts!).status).toBe(401)
    expect(await sse(urls.alerts!, { headers: auth('not-the-token') }).status).toBe(401)
    expect(await sse(`${urls.alerts}?token=nope-nope-nope`).status).toBe(401)
    // The analysts' token is for the alerts channel only.
    expect(await sse(urls.all!, { headers: auth(ANALYSTS) }).status).toBe(401)
    expect(await wsClient(urls.alerts!.replace('http', 'ws'), auth('not-the-token')).status).toBe(401)
    expect(await wsClient(urls.alerts!.replace('http', 'ws')).status).toBe(401)
    const bad = sse(`${urls.alerts}?filter=${encodeURIComponent('value >')}`, { headers: auth(OPS) })
    expect(await bad.status).toBe(400)
    await bad.ended
    expect(JSON.parse(bad.events[0]!.data)).toEqual({ error: expect.stringMatching(/^filter: expression `value >` does not parse/) })
    expect(await sse(urls.alerts!, { headers: { ...auth(OPS), 'last-event-id': 'abc' } }).status).toBe(400)
    expect(await wsClient(`${urls.alerts!.replace('http', 'ws')}?filter=${encodeURIComponent('(')}`, auth(OPS)).status).toBe(400)
    expect(await metricValue(metricsUrl, 'tributary_push_unauthorized_total', { stage: 'alerts' })).toBe(5)
  })

  it('SSE and WebSocket clients receive exactly the records of their channel, with its positions as ids', async () => {
    const ops = sse(urls.alerts!, { headers: auth(OPS) })
    const analysts = wsClient(`${urls.alerts!.replace('http', 'ws')}?token=${ANALYSTS}`)
    const evens = sse(`${urls.all}?filter=${encodeURIComponent('n % 2 == 0')}`, { headers: auth(OPS) })
    const everything = wsClient(urls.all!.replace('http', 'ws'), auth(OPS))
    expect([await ops.status, await analysts.status, await evens.status, await everything.status]).toEqual([200, 101, 200, 101])
    await feed(300)
    await waitFor('every client to get its records', () => ops.records().length >= 100 && analysts.records().length >= 100 && evens.records().length >= 150 && everything.records().length >= 300, 60_000)
    expect(ns(ops)).toEqual(alertsUpTo(300))
    expect(ns(analysts)).toEqual(alertsUpTo(300))
    // The alerts channel's history holds only alerts: positions 1..100.
    expect(ops.records().map((r) => r.id)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1))
    expect(analysts.records().map((r) => r.id)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1))
    expect(ns(evens)).toEqual(Array.from({ length: 150 }, (_, i) => 2 * (i + 1)))
    expect(evens.records().map((r) => r.id)).toEqual(Array.from({ length: 150 }, (_, i) => 2 * (i + 1)))
    expect(ns(everything)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1))
    expect(await metricValue(metricsUrl, 'tributary_push_clients', { stage: 'alerts', team: 'analysts', transport: 'ws' })).toBe(1)
    ops.close()
    analysts.close()
    evens.close()
    everything.close()
    await analysts.closed
    await waitFor('the clients to be gone', async () => (await metricValue(metricsUrl, 'tributary_push_clients', { stage: 'all', team: 'token-1', transport: 'ws' })) === 0)
  })

  it('a reconnect with Last-Event-ID receives exactly the missed records: older than the ring from the stream, then from memory, then live', async () => {
    // The alerts channel holds positions 1..100 (n = 3..300); a dashboard saw up to 100 and dropped.
    await feed(300) // alerts 101..200 while it is away: 80 older than the 20 in memory
    const missed = alertsUpTo(600).slice(100)
    const probe = sse(`${urls.alerts}?last=1`, { headers: auth(OPS) })
    await waitFor('the channel to reach 200', () => probe.records().at(-1)?.id === 200, 60_000)
    probe.close()
    const fromStream = await metricValue(metricsUrl, 'tributary_push_resumed_records_total', { stage: 'alerts', from: 'stream' })

    const back = sse(urls.alerts!, { headers: { ...auth(OPS), 'last-event-id': '100' } })
    await waitFor('the 100 missed alerts', () => back.records().length >= 100, 60_000)
    expect(back.records().map((r) => r.id)).toEqual(Array.from({ length: 100 }, (_, i) => 101 + i))
    expect(ns(back)).toEqual(missed)
    expect((await metricValue(metricsUrl, 'tributary_push_resumed_records_total', { stage: 'alerts', from: 'stream' })) - fromStream).toBe(80)
    // Live from there, nothing twice.
    await feed(30)
    await waitFor('10 live alerts', () => back.records().length >= 110, 60_000)
    expect(back.records().map((r) => r.id)).toEqual(Array.from({ length: 110 }, (_, i) => 101 + i))
    // Within the ring: from memory; and `?lastEventId=` for clients that cannot send the header (WebSocket).
    const near = wsClient(`${urls.alerts!.replace('http', 'ws')}?lastEventId=205`, auth(OPS))
    await waitFor('5 alerts', () => near.records().length >= 5, 30_000)
    expect(near.records().map((r) => r.id)).toEqual([206, 207, 208, 209, 210])
    near.close()
    back.close()

    // Reconnecting while records stream in: the hand-over from history to live loses and repeats nothing.
    const flowing = feed(3000)
    const during = sse(urls.alerts!, { headers: { ...auth(OPS), 'last-event-id': '150' } })
    await flowing
    await waitFor('alerts up to 1210', () => during.records().at(-1)?.id === 1210, 90_000)
    expect(during.records().map((r) => r.id)).toEqual(Array.from({ length: 1060 }, (_, i) => 151 + i))
    expect(during.events.filter((e) => e.event !== 'message')).toEqual([])
    during.close()
  })

  it('a client that stops reading is cut off (disconnect) or loses its oldest records (drop-oldest), while the other client gets every record', async () => {
    // Each channel is its own sink stage and may still be catching up with the feeds above: counted
    // from `start`, a channel lagging behind would hand the new clients older records too.
    const probes = [sse(urls.all!, { headers: auth(OPS) }), sse(urls.bulk!, { headers: auth(OPS) })]
    await feed(1)
    await waitFor('the all and bulk channels to catch up', () => probes.every((p) => p.records().at(-1)?.record.n === written), 60_000)
    for (const p of probes) p.close()
    const start = written
    const steady = sse(urls.all!, { headers: auth(OPS) })
    const stalled = sse(urls.all!, { headers: auth(OPS) })
    const stalledBulk = sse(urls.bulk!, { headers: auth(OPS) })
    expect([await steady.status, await stalled.status, await stalledBulk.status]).toEqual([200, 200, 200])
    stalled.pause()
    stalledBulk.pause()
    // Rounds of ~3 MB until both policies have acted: how much the kernel buffers is not ours to know.
    for (let round = 0; round < 20; round++) {
      await feed(2000)
      await waitFor('the steady client to keep up', () => steady.records().length === written - start, 90_000)
      const cut = await metricValue(metricsUrl, 'tributary_push_slow_disconnects_total', { stage: 'all' })
      const dropped = await metricValue(metricsUrl, 'tributary_push_dropped_total', { stage: 'bulk' })
      if (cut === 1 && dropped > 0) break
    }
    expect(await metricValue(metricsUrl, 'tributary_push_slow_disconnects_total', { stage: 'all', team: 'token-1' })).toBe(1)
    expect(run!.stderr()).toMatch(/push client too slow: its buffer is full; disconnected \(policy disconnect\)/)
    // The steady client: every record, in order, whatever the others did.
    expect(ns(steady)).toEqual(Array.from({ length: written - start }, (_, i) => start + i + 1))
    expect(steady.dropped()).toBe(0)

    // The disconnected client reads what reached it, then the end.
    stalled.resume()
    await stalled.ended
    const got = ns(stalled)
    expect(got.length).toBeLessThan(written - start)
    expect(got).toEqual(Array.from({ length: got.length }, (_, i) => start + i + 1))

    // drop-oldest: when it reads again it gets the newest records; what it got and what it was told it lost add up.
    stalledBulk.resume()
    await waitFor('the stalled bulk client to reach the last record', () => stalledBulk.records().at(-1)?.record.n === written, 60_000)
    const bulk = stalledBulk.records()
    expect(stalledBulk.dropped()).toBeGreaterThan(0)
    expect(bulk.length + stalledBulk.dropped()).toBe(written - start)
    expect(await metricValue(metricsUrl, 'tributary_push_dropped_total', { stage: 'bulk', team: 'token-1' })).toBe(stalledBulk.dropped())
    for (let i = 1; i < bulk.length; i++) expect(bulk[i]!.id).toBeGreaterThan(bulk[i - 1]!.id)
    steady.close()
    stalledBulk.close()
  })

  it('serves a channel over TLS on a port of its own', async () => {
    expect(urls.secure).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/push\/secure$/)
    const c = sse(`${urls.secure}?last=3`, { headers: auth(OPS), ca })
    expect(await c.status).toBe(200)
    const last = Math.floor(written / 3) * 3
    await waitFor('the last alert', () => c.records().at(-1)?.record.n === last, 30_000)
    // Three from before it connected (more if the channel was still catching up with the run).
    expect(ns(c).slice(-3)).toEqual([last - 6, last - 3, last])
    expect(c.records().map((r) => r.id)).toEqual(Array.from({ length: c.records().length }, (_, i) => c.records()[0]!.id + i))
    expect(await sse(urls.secure!, { headers: auth('wrong-token-123'), ca }).status).toBe(401)
    c.close()
  })

  it('a push sink in a run that serves no HTTP port, and has none of its own, refuses to start and says what to set', async () => {
    await writeFile(path.join(tmp.dir, 'noport.ndjson'), '{"n":1}\n')
    await writeFile(path.join(tmp.dir, 'noport.yaml'), `name: noport
source: { use: file, config: { path: noport.ndjson } }
sinks: [ { use: push, config: { tokens: ["\${env:OPS_TOKEN}"] } } ]
`)
    const r = await runCli(['run', path.join(tmp.dir, 'noport.yaml')], { ...process.env, NATS_URL: nats.url, TRIBUTARY_HOME: path.join(tmp.dir, 'home2'), OPS_TOKEN: OPS })
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain('channel push needs an HTTP port: the runtime serves none. Set `metrics: { port: 9464 }` in the pipeline file (or run with --metrics-port), or give the sink a `port` of its own')
  })

  it('SIGTERM drains: subscribers see the end of their stream, the run exits 0', async () => {
    const c = sse(urls.alerts!, { headers: auth(OPS) })
    expect(await c.status).toBe(200)
    process.kill(run!.child.pid!, 'SIGTERM')
    await c.ended
    expect(await run!.exited).toBe(0)
    expect(run!.stderr()).toMatch(/livepush: \d+ records in, 0 to the dead-letter queue, stopped/)
  })

  it('after a restart a client resumes from its last id: the positions are the history stream\'s, not the process\'s', async () => {
    await startRun()
    const alerts = Math.floor(written / 3)
    // 30 back: 20 in the ring the new process filled from the history, 10 read from the stream.
    const back = sse(urls.alerts!, { headers: { ...auth(OPS), 'last-event-id': String(alerts - 30) } })
    await waitFor('30 alerts', () => back.records().length >= 30, 30_000)
    expect(back.records().map((r) => r.id)).toEqual(Array.from({ length: 30 }, (_, i) => alerts - 29 + i))
    expect(ns(back)).toEqual(Array.from({ length: 30 }, (_, i) => 3 * (alerts - 29 + i)))
    expect(await metricValue(metricsUrl, 'tributary_push_resumed_records_total', { stage: 'alerts', from: 'stream' })).toBe(10)
    // And the channel goes on where it was.
    await feed(3)
    await waitFor('one more alert', () => back.records().length === 31, 30_000)
    expect(back.records().at(-1)).toEqual({ id: alerts + 1, record: { n: 3 * (alerts + 1), kind: 'alert', pad: PAD } })
    back.close()
  })
})
