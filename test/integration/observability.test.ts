import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { startNatsServer } from '../helpers/nats-server.js'
import { makeTempDir } from '../helpers/tmp.js'
import { assertBuilt, runCli, spawnCli, waitFor, type Background } from '../helpers/cli.js'
import type { PipelineStatus } from '../../core/status/types.js'

// The compiled CLI with `--metrics-port 0`: the test learns the port from the log. The file source
// follows its file, so the runtime stays up after the input is processed and the figures are exact.
let nats: Awaited<ReturnType<typeof startNatsServer>>
let tmp: Awaited<ReturnType<typeof makeTempDir>>
let env: NodeJS.ProcessEnv
const children: Background[] = []

beforeAll(async () => {
  assertBuilt()
  ;[nats, tmp] = await Promise.all([startNatsServer(), makeTempDir('observability')])
  env = { ...process.env, NATS_URL: nats.url, TRIBUTARY_HOME: path.join(tmp.dir, 'home'), TRIBUTARY_LOG_LEVEL: 'info' }
})

afterAll(async () => {
  for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL')
  await nats?.stop()
  await tmp?.remove()
})

function logField(run: Background, msg: RegExp, field: string): string | undefined {
  for (const line of run.stderr().split('\n')) {
    try {
      const o = JSON.parse(line) as Record<string, unknown>
      if (typeof o.msg === 'string' && msg.test(o.msg) && typeof o[field] === 'string') return o[field] as string
    } catch {
      // not a JSON log line
    }
  }
  return undefined
}

async function start(file: string): Promise<{ run: Background; metrics: string }> {
  const run = spawnCli(['run', file, '--metrics-port', '0'], env)
  children.push(run)
  const metrics = await waitFor('the metrics port', () => {
    if (run.child.exitCode !== null) throw new Error(`tributary run exited ${run.child.exitCode}: ${run.stderr()}`)
    return logField(run, /^serving metrics/, 'metrics')
  })
  await waitFor('the pipeline to run', () => logField(run, /^pipeline running$/, 'pipeline'))
  return { run, metrics }
}

/** Prometheus text → `name{labels sorted}` → value, so label order in the exposition does not matter. */
async function scrape(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(url)).text()
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m) continue
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1]!, x[2]!]))
    out.set(key(m[1]!, labels), Number(m[3]))
  }
  return out
}

function key(name: string, labels: Record<string, string>): string {
  return `${name}${JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)))}`
}

const series = (name: string, stage: string, extra: Record<string, string> = {}): string => key(name, { pipeline: 'obs', stage, ...extra })
const consumer = { consumer: 'obs--filter' }

async function status(): Promise<PipelineStatus> {
  const r = await runCli(['pipelines', 'status', 'obs', '--json'], env)
  if (r.code !== 0) throw new Error(`pipelines status failed: ${r.stderr}`)
  return JSON.parse(r.stdout) as PipelineStatus
}

describe('metrics, pipelines status and top of a running pipeline', () => {
  it('serves per-stage series with exact counts, reports them in `pipelines status --json` and `top --once`, and keeps the last figures after the runtime stopped', async () => {
    const lines: string[] = []
    let passing = 0
    for (let i = 1; i <= 1000; i++) {
      lines.push(JSON.stringify({ id: i, value: i % 200 }))
      if (i % 200 > 100) passing++
    }
    lines.splice(100, 0, '{"id": broken', 'not json either') // the source dead-letters these 2
    lines.splice(500, 0, ...[1, 2, 3].map((k) => JSON.stringify({ id: 5000 + k, value: 'oops' }))) // the filter rejects these 3
    await writeFile(path.join(tmp.dir, 'in.ndjson'), lines.join('\n') + '\n')
    const file = path.join(tmp.dir, 'obs.yaml')
    await writeFile(file, `name: obs
source: { use: file, config: { path: in.ndjson, follow: true, batchSize: 300 } }
transforms:
  - { use: filter, config: { where: "value > 100" } }
  - { use: map, config: { set: { doubled: "value * 2" } } }
sinks:
  - { use: stdout }
`)
    const { run, metrics } = await start(file)
    const base = metrics.replace(/\/metrics$/, '')
    expect((await fetch(`${base}/healthz`)).status).toBe(200)
    expect((await fetch(`${base}/readyz`)).status).toBe(200)

    // Counters move per batch; the polled gauges every 2 s: wait for the end state of both.
    const m = await waitFor('every record to be written and the consumer to be caught up', async () => {
      const s = await scrape(metrics)
      const done = s.get(series('tributary_stage_records_out_total', 'stdout')) === passing && s.get(series('tributary_stage_acked_total', 'filter')) === 1003
      const polled = s.get(series('tributary_consumer_ack_pending_messages', 'filter', consumer)) === 0 && s.get(key('tributary_dlq_messages', { pipeline: 'obs' })) === 5
      return done && polled && s
    })
    const expected: [string, string, number][] = [
      ['tributary_stage_records_in_total', 'file', 1005],
      ['tributary_stage_records_out_total', 'file', 1003],
      ['tributary_stage_dlq_records_total', 'file', 2],
      ['tributary_stage_acked_total', 'file', 1005],
      ['tributary_stage_records_in_total', 'filter', 1003],
      ['tributary_stage_records_out_total', 'filter', passing],
      ['tributary_stage_dlq_records_total', 'filter', 3],
      ['tributary_stage_errors_total', 'filter', 0],
      // The group's fetch loop never wedged (core/runtime/wedge-detector.ts): the series is there, at 0.
      ['tributary_consumer_restarts_total', 'filter', 0],
      ['tributary_stage_records_in_total', 'map', passing],
      ['tributary_stage_records_out_total', 'map', passing],
      ['tributary_stage_records_in_total', 'stdout', passing],
      ['tributary_stage_records_out_total', 'stdout', passing],
      ['tributary_stage_dlq_records_total', 'stdout', 0],
    ]
    for (const [name, stage, n] of expected) expect([name, stage, m.get(series(name, stage))]).toEqual([name, stage, n])
    // Histograms: batch sizes sum to the records handed to the plugin; latencies were observed.
    expect(m.get(series('tributary_stage_batch_size_sum', 'filter'))).toBe(1003)
    expect(m.get(series('tributary_stage_batch_size_sum', 'stdout'))).toBe(passing)
    expect(m.get(series('tributary_stage_processing_seconds_count', 'map'))).toBeGreaterThan(0)
    expect(m.get(series('tributary_stage_ack_latency_seconds_count', 'filter'))).toBeGreaterThan(0)
    expect(m.get(series('tributary_sink_write_seconds_count', 'stdout'))).toBeGreaterThan(0)
    expect(m.get(series('tributary_stage_ack_latency_seconds_bucket', 'filter', { le: '+Inf' }))).toBe(m.get(series('tributary_stage_ack_latency_seconds_count', 'filter')))
    expect(m.get(series('tributary_consumer_pending_messages', 'filter', consumer))).toBe(0)
    expect(m.get(series('tributary_consumer_oldest_unacked_age_seconds', 'filter', consumer))).toBe(0)
    expect(m.get(series('tributary_stage_info', 'map', { kind: 'transform', plugin: 'map', group: 'filter' }))).toBe(1)
    expect(m.get(key('tributary_runtime_ready', { pipeline: 'obs' }))).toBe(1)
    expect(m.get(key('tributary_stream_max_age_seconds', { pipeline: 'obs' }))).toBe(7 * 86_400)
    expect(m.get(key('process_resident_memory_bytes', {}))).toBeGreaterThan(0)

    // pipelines status --json: the heartbeat (every 2 s) carries the same totals.
    const live = await waitFor('the status document to show every record', async () => {
      const s = await status()
      return s.stages.find((x) => x.id === 'stdout')?.out === passing && s.stages.find((x) => x.id === 'file')?.acked === 1005 && s
    })
    expect(live.state).toBe('running')
    expect(live.mode).toBe('run')
    expect(live.runtimes).toHaveLength(1)
    expect(live.runtimes[0]).toMatchObject({ state: 'running', pid: run.child.pid, metricsUrl: metrics })
    expect(live.stages.map((s) => [s.id, s.kind, s.use, s.in, s.out, s.dead, s.errors])).toEqual([
      ['file', 'source', 'file', 1005, 1003, 2, 0],
      ['filter', 'transform', 'filter', 1003, passing, 3, 0],
      ['map', 'transform', 'map', passing, passing, 0, 0],
      ['stdout', 'sink', 'stdout', passing, passing, 0, 0],
    ])
    expect(live.consumers).toEqual([expect.objectContaining({ stage: 'filter', consumer: 'obs--filter', exists: true, pending: 0, ackPending: 0 })])
    expect(live.stream).toMatchObject({ messages: 1003 + 5, dlq: 5 })

    // top --once: one frame with a row per stage.
    const top = await runCli(['top', 'obs', '--once'], env)
    expect(top.code).toBe(0)
    const rows = top.stdout.split('\n').filter((l) => l.startsWith('obs '))
    expect(rows.map((l) => l.split(/\s+/).slice(0, 6))).toEqual([
      ['obs', 'file', 'source', 'file', '1005', '1003'],
      ['obs', 'filter', 'transform', 'filter', '1003', String(passing)],
      ['obs', 'map', 'transform', 'map', String(passing), String(passing)],
      ['obs', 'stdout', 'sink', 'stdout', String(passing), String(passing)],
    ])

    // Drained: the last document says stopped and keeps the figures.
    run.child.kill('SIGTERM')
    expect(await run.exited).toBe(0)
    const after = await status()
    expect(after.state).toBe('stopped')
    expect(after.runtimes[0]).toMatchObject({ state: 'stopped', pid: run.child.pid })
    expect(after.stages.map((s) => [s.id, s.in, s.out, s.inPerS, s.outPerS])).toEqual([
      ['file', 1005, 1003, 0, 0],
      ['filter', 1003, passing, 0, 0],
      ['map', passing, passing, 0, 0],
      ['stdout', passing, passing, 0, 0],
    ])
    expect(after.consumers[0]).toMatchObject({ pending: 0, ackPending: 0 })
  })

  it('shows a runtime killed with -9 as lost once its heartbeats stop, next to the one that drained', async () => {
    const file = path.join(tmp.dir, 'obs.yaml')
    const { run } = await start(file)
    await waitFor('a heartbeat from the new runtime', async () => (await status()).runtimes.find((r) => r.pid === run.child.pid && r.state === 'running'))
    run.child.kill('SIGKILL')
    await run.exited
    const s = await waitFor('the runtime to be seen as lost', async () => {
      const st = await status()
      return st.runtimes.find((r) => r.pid === run.child.pid)?.state === 'lost' && st
    })
    expect(s.state).toBe('stopped')
    // The earlier, drained runtime is still listed as stopped.
    expect(s.runtimes.map((r) => r.state).sort()).toEqual(['lost', 'stopped'])
  })
})
