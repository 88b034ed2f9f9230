import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHmac } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { readDlq } from '../helpers/dlq.js'
import { startPipelineEnv, type PipelineEnv } from '../helpers/pipeline-env.js'
import { waitFor, type Background } from '../helpers/cli.js'

// The compiled CLI with `port: 0`: the test learns the port from the "listening" log line.
let t: PipelineEnv

beforeAll(async () => {
  t = await startPipelineEnv('http-source', { cli: true, env: { HOOK_TOKEN: 's3cret-token', HOOK_SECRET: 'hmac-secret' } })
})

afterAll(async () => {
  await t?.close()
})

async function start(file: string): Promise<{ run: Background; url: string }> {
  const run = t.spawn(['run', file])
  const url = await waitFor('the http source to listen', () => {
    if (run.child.exitCode !== null) throw new Error(`tributary run exited ${run.child.exitCode}: ${run.stderr()}`)
    for (const line of run.stderr().split('\n')) {
      try {
        const o = JSON.parse(line) as { msg?: string; url?: string }
        if (o.msg === 'http source listening') return o.url
      } catch {
        // not a JSON log line
      }
    }
    return undefined
  })
  return { run, url: url! }
}

async function stop(run: Background): Promise<void> {
  run.child.kill('SIGTERM')
  const code = await Promise.race([run.exited, new Promise<string>((r) => setTimeout(() => r('still running 30 s after SIGTERM'), 30_000).unref())])
  if (code !== 0) throw new Error(`tributary run: ${String(code)}\n${run.stderr()}`)
}

async function lines(file: string): Promise<{ id: number }[]> {
  const text = await readFile(file, 'utf8').catch(() => '')
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: number })
}

function post(url: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers }, signal: AbortSignal.timeout(30_000) })
}

describe('http source (real nats-server, compiled CLI)', () => {
  it('refuses bad tokens (401), large bodies (413), wrong paths and methods; stores object, array and NDJSON bodies exactly once, rejects malformed records to the DLQ, and keeps offsets unique across a restart', async () => {
    const file = path.join(t.dir, 'hooks.yaml')
    const out = path.join(t.dir, 'hooks.ndjson')
    await writeFile(file, `name: hooks
source: { use: http, config: { port: 0, path: /events, maxBodyBytes: 4096, auth: { type: bearer, token: "\${env:HOOK_TOKEN}" } } }
sinks: [ { use: file, config: { path: hooks.ndjson } } ]
`)
    const { run, url } = await start(file)
    const auth = { authorization: 'Bearer s3cret-token' }

    expect((await post(url, '{"id":-1}')).status).toBe(401)
    expect((await post(url, '{"id":-1}', { authorization: 'Bearer wrong' })).status).toBe(401)
    expect((await post(url.replace('/events', '/other'), '{"id":-1}', auth)).status).toBe(404)
    expect((await fetch(url, { headers: auth })).status).toBe(405)
    const big = await post(url, JSON.stringify({ id: -1, pad: 'x'.repeat(5000) }), auth)
    expect(big.status).toBe(413)
    expect((await post(url, '"just a string"', auth)).status).toBe(400)

    const one = await post(url, '{"id":1}', auth)
    expect(one.status).toBe(200)
    expect(await one.json()).toEqual({ accepted: 1, rejected: 0 })
    const arr = await post(url, JSON.stringify([{ id: 2 }, { id: 3 }, { id: 4 }]), auth)
    expect(await arr.json()).toEqual({ accepted: 3, rejected: 0 })
    const nd = await post(url, '{"id":5}\n{"id": broken\n{"id":6}\n[1,2]\n', auth)
    const ndBody = (await nd.json()) as { accepted: number; rejected: number; errors: string[] }
    expect(nd.status).toBe(200)
    expect(ndBody.accepted).toBe(2)
    expect(ndBody.rejected).toBe(2)
    expect(ndBody.errors).toHaveLength(2)

    // 40 concurrent requests of 25 records: all stored (grouped into batches), none twice.
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, r) => post(url, Array.from({ length: 25 }, (_, i) => JSON.stringify({ id: 100 + r * 25 + i })).join('\n'), auth).then(async (res) => ({ status: res.status, body: (await res.json()) as { accepted: number } }))),
    )
    expect(answers.every((a) => a.status === 200 && a.body.accepted === 25)).toBe(true)

    const expected = [1, 2, 3, 4, 5, 6, ...Array.from({ length: 1000 }, (_, i) => 100 + i)]
    await waitFor('1006 records in the file', async () => (await lines(out)).length >= expected.length)
    await stop(run)
    expect((await lines(out)).map((l) => l.id).sort((a, b) => a - b)).toEqual(expected)

    const dlq = await readDlq(t.nc, 'hooks')
    expect(dlq.map((d) => d.data).sort()).toEqual(['[1,2]', '{"id": broken'])
    expect(dlq.every((d) => d.headers['Trib-Stage'] === 'http')).toBe(true)

    // A new run must not reuse the offsets (message ids) of the first: its records are not dropped as duplicates.
    const second = await start(file)
    const again = await post(second.url, JSON.stringify(Array.from({ length: 10 }, (_, i) => ({ id: 5000 + i }))), auth)
    expect(await again.json()).toEqual({ accepted: 10, rejected: 0 })
    await waitFor('1016 records in the file', async () => (await lines(out)).length >= expected.length + 10)
    await stop(second.run)
    const all = (await lines(out)).map((l) => l.id)
    expect(all).toHaveLength(1016)
    expect(new Set(all).size).toBe(1016)
  })

  it('checks HMAC signatures of the body (401 when missing or wrong)', async () => {
    const file = path.join(t.dir, 'signed.yaml')
    const out = path.join(t.dir, 'signed.ndjson')
    await writeFile(file, `name: signed
source: { use: http, config: { port: 0, auth: { type: hmac, secret: "\${env:HOOK_SECRET}", header: X-Hub-Signature-256 } } }
sinks: [ { use: file, config: { path: signed.ndjson } } ]
`)
    const { run, url } = await start(file)
    const body = JSON.stringify([{ id: 1 }, { id: 2 }])
    const sig = createHmac('sha256', 'hmac-secret').update(body).digest('hex')
    expect((await post(url, body)).status).toBe(401)
    expect((await post(url, body, { 'x-hub-signature-256': `sha256=${createHmac('sha256', 'other').update(body).digest('hex')}` })).status).toBe(401)
    // A valid signature of another body does not pass either.
    expect((await post(url, body.replace('2', '3'), { 'x-hub-signature-256': `sha256=${sig}` })).status).toBe(401)
    const ok = await post(url, body, { 'x-hub-signature-256': `sha256=${sig}` })
    expect(await ok.json()).toEqual({ accepted: 2, rejected: 0 })
    const bare = JSON.stringify({ id: 3 })
    expect((await post(url, bare, { 'X-Hub-Signature-256': createHmac('sha256', 'hmac-secret').update(bare).digest('hex') })).status).toBe(200)
    await waitFor('3 records in the file', async () => (await lines(out)).length >= 3)
    await stop(run)
    expect((await lines(out)).map((l) => l.id).sort()).toEqual([1, 2, 3])
  })

  it('answers 503 with Retry-After when the stream is full, and every record it accepted lands exactly once', async () => {
    const file = path.join(t.dir, 'tiny.yaml')
    const out = path.join(t.dir, 'tiny.ndjson')
    // Limits retention: consumed messages stay, so a 6 KB stream fills after a few dozen records.
    await writeFile(file, `name: tiny
retention: { maxBytes: 6KB }
source: { use: http, config: { port: 0, retryAfter: 2s } }
sinks: [ { use: file, config: { path: tiny.ndjson } } ]
`)
    const { run, url } = await start(file)
    const accepted: number[] = []
    let refused: Response | undefined
    for (let i = 1; i <= 200 && !refused; i++) {
      const res = await post(url, JSON.stringify({ id: i, pad: 'p'.repeat(150) }))
      if (res.status === 200) accepted.push(i)
      else refused = res
      await res.text()
    }
    expect(refused?.status).toBe(503)
    expect(refused?.headers.get('retry-after')).toBe('2')
    expect(accepted.length).toBeGreaterThan(5)
    // Still full: refused again, and nothing of it is stored.
    const again = await post(url, JSON.stringify({ id: 999, pad: 'p'.repeat(150) }))
    expect(again.status).toBe(503)

    await waitFor(`${accepted.length} records in the file`, async () => (await lines(out)).length >= accepted.length)
    await stop(run)
    expect((await lines(out)).map((l) => l.id).sort((a, b) => a - b)).toEqual(accepted)
  })
})
