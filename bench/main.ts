/**
 * `npm run bench [-- --json] [-- --records N]`: Tributary next to a raw-client pipeline doing
 * the same job, same machine, same run, both timed from process start to exit (last row
 * inserted and queryable). Never a test: it prints figures and never fails on a time.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir, cpus } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { execFileSync } from 'node:child_process'
import { acquireLocalServer } from '../core/nats/local-server.js'
import { timeProcess, type ProcessRun } from './measure.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const argv = process.argv.slice(2)
const json = argv.includes('--json')
const recordsArg = argv.indexOf('--records')
const records = recordsArg >= 0 ? Number(argv[recordsArg + 1]) : 500_000
const log = (s: string): void => void process.stderr.write(`${s}\n`)

function inputLine(i: number): string {
  const names = ['alpha', 'beta', 'gamma', 'delta']
  return JSON.stringify({ id: i, name: names[i % 4], value: ((i * 37) % 250) + (i % 3 === 0 ? 0.5 : 0), country: 'FR', ts: new Date(1_790_000_000_000 + i).toISOString() })
}

function count(home: string, table: string): number {
  const out = execFileSync('node', [path.join(root, 'bin/run.js'), 'query', `SELECT count() AS n FROM ${table}`, '--json', '--home', home], { encoding: 'utf8' })
  return (JSON.parse(out) as { n: number }[])[0]!.n
}

interface Scenario {
  name: string
  records: number
  bytes: number
  tributary: ProcessRun
  baseline: ProcessRun
  rows: { tributary: number; baseline: number; expected: number }
}

async function e2e(work: string, natsUrl: string): Promise<Scenario> {
  const input = path.join(work, 'input.ndjson')
  let text = ''
  let expected = 0
  for (let i = 1; i <= records; i++) {
    text += inputLine(i) + '\n'
    if (((i * 37) % 250) + (i % 3 === 0 ? 0.5 : 0) > 100) expected++
  }
  await writeFile(input, text)
  const pipeline = path.join(work, 'e2e.yaml')
  await writeFile(pipeline, `name: bench-e2e
source: { use: file, config: { path: ${JSON.stringify(input)} } }
transforms:
  - { use: filter, config: { where: "value > 100" } }
  - { use: map, config: { set: { doubled: "value * 2" }, remove: [ts, country] } }
sinks:
  - use: clickhouse
    config: { table: events, columns: { id: UInt64, name: String, value: Float64, doubled: Float64 }, orderBy: [id] }
`)
  const env = { ...process.env, NATS_URL: natsUrl, TRIBUTARY_LOG_LEVEL: 'warn' }
  log(`e2e: ${records} records (${(text.length / 1e6).toFixed(1)} MB): raw-client baseline…`)
  const baseHome = path.join(work, 'baseline-home')
  const baseline = await timeProcess('node', [path.join(root, 'dist/bench/baseline/e2e.js'), input, natsUrl, path.join(baseHome, 'clickhouse'), 'BENCH_BASELINE'], env)
  if (baseline.code !== 0) throw new Error(`baseline failed:\n${baseline.stderr}`)
  log(`e2e: baseline ${baseline.ms.toFixed(0)} ms; tributary…`)
  const tribHome = path.join(work, 'tributary-home')
  const tributary = await timeProcess('node', [path.join(root, 'bin/run.js'), 'run', pipeline, '--home', tribHome], env)
  if (tributary.code !== 0) throw new Error(`tributary failed:\n${tributary.stderr}`)
  log(`e2e: tributary ${tributary.ms.toFixed(0)} ms`)
  return { name: 'e2e', records, bytes: text.length, tributary, baseline, rows: { tributary: count(tribHome, 'events'), baseline: count(baseHome, 'events'), expected } }
}

const work = await mkdtemp(path.join(tmpdir(), 'trib-bench-'))
const natsHome = path.join(work, 'nats-home')
const server = await acquireLocalServer(natsHome)
try {
  const scenarios = [await e2e(work, server.url)]
  const out = scenarios.map((s) => {
    const t = s.records / (s.tributary.ms / 1000)
    const b = s.records / (s.baseline.ms / 1000)
    return { name: s.name, records: s.records, tributary_msgs_per_s: Math.round(t), baseline_msgs_per_s: Math.round(b), ratio: Number((t / b).toFixed(3)), tributary_mb_per_s: Number((s.bytes / 1e6 / (s.tributary.ms / 1000)).toFixed(2)), rss_mb: s.tributary.peakRssMb, baseline_rss_mb: s.baseline.peakRssMb, rows: s.rows }
  })
  log(`\nmachine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`)
  log('scenario  records   tributary rec/s  baseline rec/s  ratio  MB/s   peak RSS MB  rows (trib/base/expected)')
  for (const o of out) {
    log(`${o.name.padEnd(9)} ${String(o.records).padStart(8)}  ${String(o.tributary_msgs_per_s).padStart(15)}  ${String(o.baseline_msgs_per_s).padStart(14)}  ${o.ratio.toFixed(2).padStart(5)}  ${o.tributary_mb_per_s.toFixed(1).padStart(5)}  ${String(o.rss_mb).padStart(11)}  ${o.rows.tributary}/${o.rows.baseline}/${o.rows.expected}`)
  }
  if (json) process.stdout.write(`${JSON.stringify({ scenarios: out })}\n`)
} finally {
  await server.release()
  await rm(work, { recursive: true, force: true })
}
