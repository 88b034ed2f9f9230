import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { writeInput } from '../input.js'
import { count, runBaseline, runTributary, seconds, type BenchContext, type ScenarioResult } from '../scenario.js'
import { EVENTS_COLUMNS } from './e2e.js'

/** e2e with a stage boundary over JetStream: `map` marked `boundary: true` runs behind its own consumer (two hops). */
export async function hop(ctx: BenchContext, records: number): Promise<ScenarioResult> {
  const input = path.join(ctx.work, 'hop-input.ndjson')
  const { bytes, passing } = await writeInput(input, records)
  const pipeline = path.join(ctx.work, 'hop.yaml')
  await writeFile(pipeline, `name: bench-hop
source: { use: file, config: { path: ${JSON.stringify(input)} } }
transforms:
  - { use: filter, config: { where: "value > 100" } }
  - { use: map, boundary: true, config: { set: { doubled: "value * 2" }, remove: [ts, country] } }
sinks:
  - use: clickhouse
    config: { table: events, columns: ${EVENTS_COLUMNS}, orderBy: [id] }
`)
  ctx.log(`hop: ${records} records, two JetStream hops: raw-client baseline…`)
  const baselineHome = path.join(ctx.work, 'hop-baseline-home')
  const baseline = await runBaseline(ctx, 'hop', [input, ctx.natsUrl, path.join(baselineHome, 'clickhouse'), 'BENCH_HOP'])
  ctx.log(`hop: baseline ${seconds(baseline)}; tributary…`)
  const tributaryHome = path.join(ctx.work, 'hop-tributary-home')
  const tributary = await runTributary(ctx, ['run', pipeline, '--home', tributaryHome])
  ctx.log(`hop: tributary ${seconds(tributary)}`)
  return { name: 'hop', records, bytes, tributary, baseline, rows: { tributary: count(tributaryHome, 'events'), baseline: count(baselineHome, 'events'), expected: passing } }
}
