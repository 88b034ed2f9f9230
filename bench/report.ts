import { cpus, totalmem } from 'node:os'
import type { ScenarioResult } from './scenario.js'
import type { FloorResult } from './scenarios/floor.js'
import type { LatencyResult } from './scenarios/latency.js'

export interface ScenarioJson {
  name: string
  records: number
  tributary_msgs_per_s: number
  baseline_msgs_per_s: number
  ratio: number
  /** Event → queryable p99 of this pipeline shape at a fixed rate; null where no latency run covers it. */
  p99_ms: number | null
  /** Peak RSS of the Tributary process (VmHWM: chDB's mapped library included). */
  rss_mb: number
  p50_ms: number | null
  tributary_mb_per_s: number
  baseline_mb_per_s: number
  /** Peak anonymous RSS of the Tributary process (heap and buffers, without mapped files). */
  anon_rss_mb: number
  baseline_rss_mb: number
  rows: { tributary: number; baseline: number; expected: number }
  rows_ok: boolean
  latency?: { rate: number; records: number; rows: number; p50_ms: number; p99_ms: number; max_ms: number }
}

export function scenarioJson(s: ScenarioResult, lat?: LatencyResult): ScenarioJson {
  const t = s.records / (s.tributary.ms / 1000)
  const b = s.records / (s.baseline.ms / 1000)
  return {
    name: s.name,
    records: s.records,
    tributary_msgs_per_s: Math.round(t),
    baseline_msgs_per_s: Math.round(b),
    ratio: Number((t / b).toFixed(3)),
    p99_ms: lat ? lat.p99Ms : null,
    rss_mb: s.tributary.peakRssMb,
    p50_ms: lat ? lat.p50Ms : null,
    tributary_mb_per_s: Number((s.bytes / 1e6 / (s.tributary.ms / 1000)).toFixed(2)),
    baseline_mb_per_s: Number((s.bytes / 1e6 / (s.baseline.ms / 1000)).toFixed(2)),
    anon_rss_mb: s.tributary.peakAnonMb,
    baseline_rss_mb: s.baseline.peakRssMb,
    rows: s.rows,
    rows_ok: s.rows.tributary === s.rows.expected && s.rows.baseline === s.rows.expected,
    ...(lat ? { latency: { rate: lat.rate, records: lat.records, rows: lat.rows, p50_ms: lat.p50Ms, p99_ms: lat.p99Ms, max_ms: lat.maxMs } } : {}),
  }
}

export function floorJson(f: FloorResult, e2e: ScenarioJson | undefined): Record<string, unknown> {
  const rate = f.records / (f.run.ms / 1000)
  return {
    name: 'floor',
    design: 'seed: every js.publish awaited, every message acked alone, every row inserted alone',
    records: f.records,
    msgs_per_s: Math.round(rate),
    rss_mb: f.run.peakRssMb,
    rows: f.rows,
    rows_ok: f.rows === f.expected,
    e2e_over_floor: e2e ? Number((e2e.tributary_msgs_per_s / rate).toFixed(1)) : null,
  }
}

/** The human table (stderr). */
export function formatReport(rows: ScenarioJson[], floor: Record<string, unknown> | undefined, lat: LatencyResult | undefined): string {
  const cpu = cpus()
  const lines = [`machine: ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GB, Node ${process.version}; times from process start to exit`, '']
  const head = ['scenario', 'records', 'trib rec/s', 'base rec/s', 'ratio', 'trib MB/s', 'p50 ms', 'p99 ms', 'RSS MB', 'anon MB', 'base RSS', 'rows trib/base/expected']
  const cells = rows.map((r) => [r.name, String(r.records), String(r.tributary_msgs_per_s), String(r.baseline_msgs_per_s), r.ratio.toFixed(2), r.tributary_mb_per_s.toFixed(1), r.p50_ms === null ? '-' : String(r.p50_ms), r.p99_ms === null ? '-' : String(r.p99_ms), String(r.rss_mb), String(r.anon_rss_mb), String(r.baseline_rss_mb), `${r.rows.tributary}/${r.rows.baseline}/${r.rows.expected}${r.rows_ok ? '' : ' MISMATCH'}`])
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)))
  const fmt = (c: string[]): string => c.map((v, i) => (i === 0 || i === c.length - 1 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ').trimEnd()
  lines.push(fmt(head), ...cells.map(fmt))
  if (lat) lines.push('', `latency (e2e shape, generate at ${lat.rate}/s, 1 s flush, ${lat.rows} rows): p50 ${lat.p50Ms} ms, p99 ${lat.p99Ms} ms, max ${lat.maxMs} ms; peak RSS ${lat.peakRssMb} MB`)
  if (floor) lines.push('', `floor (${String(floor.design)}): ${String(floor.records)} records at ${String(floor.msgs_per_s)} rec/s; e2e is ${String(floor.e2e_over_floor ?? '-')}× the floor`)
  return lines.join('\n')
}
