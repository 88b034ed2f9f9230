import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFile, writeFile } from 'node:fs/promises'
import dgram from 'node:dgram'
import net from 'node:net'
import path from 'node:path'
import { jetstream } from '@nats-io/jetstream'
import { Kvm } from '@nats-io/kv'
import { readDlq } from '../helpers/dlq.js'
import { startPipelineEnv, type PipelineEnv } from '../helpers/pipeline-env.js'
import { countSubject, offsetOf, readSubject } from '../helpers/stream.js'
import { waitFor, type Background } from '../helpers/cli.js'

// The compiled CLI (`tributary run`) with `port: 0`: the test learns the port from the log.
// Records are counted where the source puts them: the pipeline's stream on trib.<name>.socket.
let t: PipelineEnv

beforeAll(async () => {
  t = await startPipelineEnv('socket-source', { cli: true })
})

afterAll(async () => {
  await t?.close()
})

async function start(file: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<{ run: Background; port: number }> {
  const run = t.spawn(['run', file], extraEnv)
  const port = await waitFor('the socket source to listen', () => {
    if (run.child.exitCode !== null) throw new Error(`tributary run exited ${run.child.exitCode}: ${run.stderr()}`)
    for (const line of run.stderr().split('\n')) {
      try {
        const o = JSON.parse(line) as { msg?: string; port?: number }
        if (o.msg === 'socket source listening') return o.port
      } catch {
        // not a JSON log line
      }
    }
    return undefined
  })
  return { run, port: port! }
}

async function stop(run: Background): Promise<void> {
  run.child.kill('SIGTERM')
  expect(await run.exited, run.stderr()).toBe(0)
}

/** Writes everything on one TCP connection, then closes it; resolves once the peer has it all. */
function sendTcp(port: number, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => s.end(text))
    s.on('error', reject)
    s.on('close', () => resolve())
    s.resume()
  })
}

/** Drops the kernel counted for the UDP socket bound to `port` (Linux /proc/net/udp, column `drops`). */
async function kernelUdpDrops(port: number): Promise<number> {
  const text = await readFile('/proc/net/udp', 'utf8').catch(() => '')
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`
  for (const line of text.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/)
    if (cols[1]?.endsWith(hex)) return Number(cols[cols.length - 1])
  }
  return 0
}

async function kvStats(pipeline: string): Promise<{ received: number; dropped: number } | undefined> {
  const kv = await new Kvm(jetstream(t.nc)).open(`trib-state-${pipeline}`)
  const e = await kv.get('socket.stats')
  return e && e.length > 0 ? e.json<{ received: number; dropped: number }>() : undefined
}

describe('socket source (real nats-server, compiled CLI)', () => {
  it('TCP: 2,000 ndjson lines over 4 connections under back-pressure, malformed ones to the DLQ, offsets never reused across a restart', async () => {
    const file = path.join(t.dir, 'tcp.yaml')
    // maxBuffered 100 against 500 lines per connection written at once: connections must pause.
    await writeFile(file, `name: socktcp
source: { use: socket, config: { protocol: tcp, port: 0, maxBuffered: 100, batchSize: 50 } }
sinks: [ { use: stdout } ]
`)
    const first = await start(file, { TRIBUTARY_LOG_LEVEL: 'debug' })
    const sent = new Set<string>()
    const conn = (c: number, from: number, n: number): string => {
      const lines: string[] = []
      for (let i = from; i < from + n; i++) {
        const id = `${c}-${i}`
        sent.add(id)
        lines.push(JSON.stringify({ id, c, i, pad: 'x'.repeat(i % 50) }))
      }
      return lines.join('\r\n') + '\n'
    }
    // 4 × 499 records and 4 malformed lines (one per connection) = 2,000 lines.
    await Promise.all([0, 1, 2, 3].map((c) => sendTcp(first.port, `${conn(c, 0, 250)}{"broken": ${c}\n${conn(c, 250, 249)}`)))
    await waitFor('1996 records in the stream', async () => (await countSubject(t.nc, 'socktcp', 'socket')) === 1996)
    await stop(first.run)
    // The pipeline was full at times: connections were paused, then resumed, and nothing was lost.
    expect(first.run.stderr()).toMatch(/pipeline full: connections paused/)
    expect(first.run.stderr()).toMatch(/room again: connections resumed/)

    const second = await start(file)
    await sendTcp(second.port, conn(9, 0, 500))
    await waitFor('2496 records in the stream', async () => (await countSubject(t.nc, 'socktcp', 'socket')) === 2496)
    await stop(second.run)

    const entries = await readSubject(t.nc, 'socktcp', 'socket')
    expect(entries).toHaveLength(2496)
    const ids = entries.map((e) => (JSON.parse(e.data) as { id: string }).id)
    expect(new Set(ids).size).toBe(2496)
    expect(new Set(ids)).toEqual(sent)
    expect(new Set(entries.map((e) => e.msgId)).size).toBe(2496)
    // Offsets only grow, and the second run's are all above the first run's.
    const offsets = entries.map((e) => offsetOf(e.msgId))
    const firstRun = offsets.slice(0, 1996)
    const secondRun = offsets.slice(1996)
    expect(Math.min(...secondRun)).toBeGreaterThan(Math.max(...firstRun))
    // Per connection, lines keep their order.
    for (const c of [0, 1, 2, 3, 9]) {
      const is = entries.map((e) => JSON.parse(e.data) as { c: number; i: number }).filter((r) => r.c === c).map((r) => r.i)
      expect(is).toEqual([...is].sort((a, b) => a - b))
    }

    const dlq = await readDlq(t.nc, 'socktcp')
    expect(dlq.map((d) => d.data).sort()).toEqual([0, 1, 2, 3].map((c) => `{"broken": ${c}`))
    for (const d of dlq) expect(d.headers['Trib-Reason']).toMatch(/^not valid JSON from 127\.0\.0\.1:\d+/)
  })

  it('UDP: 2,000 syslog lines; every datagram is either in the stream or counted as dropped', async () => {
    const file = path.join(t.dir, 'udp.yaml')
    // A small buffer so that bursts overflow it: drops are counted, not lost silently.
    await writeFile(file, `name: sockudp
source: { use: socket, config: { protocol: udp, port: 0, format: lines, maxBuffered: 20, batchSize: 20, statsInterval: 100ms } }
sinks: [ { use: stdout } ]
`)
    const { run, port } = await start(file)
    const client = dgram.createSocket('udp4')
    try {
      const send = (msg: string): Promise<void> => new Promise((resolve, reject) => client.send(msg, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())))
      // A modest rate: bursts of 50 every 10 ms (a load pattern, not a synchronization).
      for (let i = 0; i < 2000; i += 50) {
        await Promise.all(Array.from({ length: 50 }, (_, j) => send(`<13>Jan  1 00:00:00 host app[1]: message ${i + j}`)))
        await new Promise((r) => setTimeout(r, 10))
      }
      const kernel = await kernelUdpDrops(port)
      await waitFor('every datagram accounted for', async () => {
        const s = await kvStats('sockudp')
        return s !== undefined && s.received + s.dropped + kernel === 2000 && (await countSubject(t.nc, 'sockudp', 'socket')) === s.received
      })
      await stop(run)
      const stats = (await kvStats('sockudp'))!
      const entries = await readSubject(t.nc, 'sockudp', 'socket')
      expect(entries).toHaveLength(stats.received)
      expect(stats.received + stats.dropped + kernel).toBe(2000)
      const records = entries.map((e) => JSON.parse(e.data) as { line: string; remote: string })
      expect(new Set(records.map((r) => r.line)).size).toBe(stats.received)
      for (const r of records) {
        expect(r.line).toMatch(/^<13>Jan {2}1 00:00:00 host app\[1\]: message \d+$/)
        expect(r.remote).toMatch(/^127\.0\.0\.1:\d+$/)
      }
      if (stats.dropped > 0) expect(run.stderr()).toMatch(/udp datagrams dropped: the pipeline was full/)
      console.info(`udp: ${stats.received} received, ${stats.dropped} dropped by the source, ${kernel} dropped by the kernel`)
    } finally {
      client.close()
    }
  })
})
