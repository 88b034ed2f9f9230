/**
 * `npm run bench [-- --json] [-- --records N] [-- --only e2e,hop]`: each scenario runs the
 * Tributary pipeline and a raw-client pipeline doing the same job the most direct way, same
 * machine, same run, both timed from process start to exit (last row inserted and queryable).
 * Never a test: it prints figures and never fails on a time. Progress and the table go to
 * stderr; with --json the last line of stdout is {"scenarios":[…],"floor":{…}}.
 *
 * Sizes: e2e and replay N (default 1M), clickhouse-sink N/2, hop N/5, http N/5; the latency run
 * is 15 s at 5k records/s; the floor 2,000 records. The first full run took 12 min on 2 cores
 * shared with other work (load average ~7, throughput ~2.5× below FACTS); on idle cores the same
 * sizes should take about 5 (an estimate). `--records` scales every scenario but the latency run.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { acquireLocalServer } from '../core/nats/local-server.js'
import type { BenchContext, ScenarioResult } from './scenario.js'
import { e2e } from './scenarios/e2e.js'
import { replay } from './scenarios/replay.js'
import { hop } from './scenarios/hop.js'
import { clickhouseSink } from './scenarios/clickhouse-sink.js'
import { http } from './scenarios/http.js'
import { latency, type LatencyResult } from './scenarios/latency.js'
import { floor, type FloorResult } from './scenarios/floor.js'
import { floorJson, formatReport, scenarioJson, type ScenarioJson } from './report.js'

const ALL = ['floor', 'e2e', 'replay', 'hop', 'clickhouse-sink', 'http', 'latency'] as const
const argv = process.argv.slice(2)
const flag = (name: string): string | undefined => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined)
const json = argv.includes('--json')
const records = Number(flag('--records') ?? 1_000_000)
const only = new Set(flag('--only')?.split(',') ?? ALL)
const unknown = [...only].filter((n) => !(ALL as readonly string[]).includes(n))
if (unknown.length || !Number.isInteger(records) || records < 1000) {
  process.stderr.write(`usage: npm run bench -- [--json] [--records N (≥ 1000)] [--only ${ALL.join(',')}]\n`)
  process.exit(2)
}
const log = (s: string): void => void process.stderr.write(`${s}\n`)

const work = await mkdtemp(path.join(tmpdir(), 'trib-bench-'))
const server = await acquireLocalServer(path.join(work, 'nats-home'))
const ctx: BenchContext = { work, natsUrl: server.url, env: { ...process.env, NATS_URL: server.url, TRIBUTARY_LOG_LEVEL: 'warn' }, log }
const started = performance.now()
try {
  const results: ScenarioResult[] = []
  let floorResult: FloorResult | undefined
  let lat: LatencyResult | undefined
  if (only.has('floor')) floorResult = await floor(ctx, 2000)
  if (only.has('e2e') || only.has('replay')) {
    const e = await e2e(ctx, records)
    if (only.has('e2e')) results.push(e.result)
    if (only.has('replay')) results.push(await replay(ctx, e.artifacts, records, e.result.rows.expected))
  }
  if (only.has('hop')) results.push(await hop(ctx, Math.round(records * 0.2)))
  if (only.has('clickhouse-sink')) results.push(await clickhouseSink(ctx, Math.round(records * 0.5)))
  if (only.has('http')) results.push(await http(ctx, Math.round(records * 0.2)))
  if (only.has('latency')) lat = await latency(ctx)
  const scenarios: ScenarioJson[] = results.map((s) => scenarioJson(s, s.name === 'e2e' ? lat : undefined))
  const floorOut = floorResult ? floorJson(floorResult, scenarios.find((s) => s.name === 'e2e')) : undefined
  log(`\n${formatReport(scenarios, floorOut, lat)}\n\nbench took ${((performance.now() - started) / 1000).toFixed(0)} s`)
  if (json) process.stdout.write(`${JSON.stringify({ scenarios, floor: floorOut ?? null })}\n`)
} finally {
  await server.release()
  await rm(work, { recursive: true, force: true })
}
