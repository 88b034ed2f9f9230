import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { query, runTributary, seconds, type BenchContext } from '../scenario.js'
import { E2E_TRANSFORMS } from './e2e.js'

export interface LatencyResult {
  rate: number
  records: number
  rows: number
  p50Ms: number
  p99Ms: number
  maxMs: number
  peakRssMb: number
}

/**
 * Event → queryable latency of the e2e pipeline shape at a fixed rate: the `generate` source at
 * `rate` records/s stamps each record with its event time (ms), the sink inserts with its default
 * 1 s flush, and the table stamps each row with now64(3) at insert. Latency = insert time − event
 * time, per row, read back with quantileExact: the time a record takes to become queryable.
 */
export async function latency(ctx: BenchContext, rate = 5000, durationS = 15): Promise<LatencyResult> {
  const records = rate * durationS
  const home = path.join(ctx.work, 'latency-home')
  const pipeline = path.join(ctx.work, 'latency.yaml')
  await writeFile(pipeline, `name: bench-latency
source: { use: generate, config: { template: { id: "i", value: "(i * 37) % 250", ev: "now" }, count: ${records}, rate: ${rate} } }
${E2E_TRANSFORMS}
sinks:
  - use: clickhouse
    config: { table: latency, columns: { id: UInt64, value: Float64, doubled: Float64, ev: UInt64 }, batch: { maxWait: 1s } }
`)
  // The table is created up front for its insert-time column; the sink checks the columns it writes.
  query(home, 'CREATE TABLE latency (id UInt64, value Float64, doubled Float64, ev UInt64, _trib_origin String, ingested DateTime64(3) DEFAULT now64(3)) ENGINE = MergeTree ORDER BY tuple()')
  ctx.log(`latency: ${records} records at ${rate}/s through the e2e shape, 1 s flush…`)
  const run = await runTributary(ctx, ['run', pipeline, '--home', home])
  const [r] = query<{ n: number | string; p50: number; p99: number; mx: number }>(
    home,
    'SELECT count() AS n, quantileExact(0.5)(toUnixTimestamp64Milli(ingested) - ev) AS p50, quantileExact(0.99)(toUnixTimestamp64Milli(ingested) - ev) AS p99, max(toUnixTimestamp64Milli(ingested) - ev) AS mx FROM latency',
  )
  ctx.log(`latency: ${seconds(run)}; p50 ${Number(r!.p50)} ms, p99 ${Number(r!.p99)} ms`)
  return { rate, records, rows: Number(r!.n), p50Ms: Number(r!.p50), p99Ms: Number(r!.p99), maxMs: Number(r!.mx), peakRssMb: run.peakRssMb }
}
