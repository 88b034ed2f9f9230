import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { writeInput } from '../input.js'
import { count, runBaseline, runTributary, seconds, type BenchContext, type ScenarioResult } from '../scenario.js'

export const E2E_TRANSFORMS = `transforms:
  - { use: filter, config: { where: "value > 100" } }
  - { use: map, config: { set: { doubled: "value * 2" }, remove: [ts, country] } }`
export const EVENTS_COLUMNS = '{ id: UInt64, name: String, value: Float64, doubled: Float64 }'

/** What the replay scenario reuses: the e2e pipeline's file and both sides' homes and streams. */
export interface E2eArtifacts {
  pipeline: string
  tributaryHome: string
  baselineHome: string
  baselineStream: string
}

/** file → filter → map → embedded ClickHouse: one JetStream hop (the transforms fuse into the sink's stage). */
export async function e2e(ctx: BenchContext, records: number): Promise<{ result: ScenarioResult; artifacts: E2eArtifacts }> {
  const input = path.join(ctx.work, 'e2e-input.ndjson')
  const { bytes, passing } = await writeInput(input, records)
  const pipeline = path.join(ctx.work, 'e2e.yaml')
  await writeFile(pipeline, `name: bench-e2e
source: { use: file, config: { path: ${JSON.stringify(input)} } }
${E2E_TRANSFORMS}
sinks:
  - use: clickhouse
    config: { table: events, columns: ${EVENTS_COLUMNS}, orderBy: [id] }
`)
  ctx.log(`e2e: ${records} records (${(bytes / 1e6).toFixed(1)} MB): raw-client baseline…`)
  const baselineHome = path.join(ctx.work, 'e2e-baseline-home')
  const baselineStream = 'BENCH_E2E'
  const baseline = await runBaseline(ctx, 'e2e', [input, ctx.natsUrl, path.join(baselineHome, 'clickhouse'), baselineStream])
  ctx.log(`e2e: baseline ${seconds(baseline)}; tributary…`)
  const tributaryHome = path.join(ctx.work, 'e2e-tributary-home')
  const tributary = await runTributary(ctx, ['run', pipeline, '--home', tributaryHome])
  ctx.log(`e2e: tributary ${seconds(tributary)}`)
  return {
    result: { name: 'e2e', records, bytes, tributary, baseline, rows: { tributary: count(tributaryHome, 'events'), baseline: count(baselineHome, 'events'), expected: passing } },
    artifacts: { pipeline, tributaryHome, baselineHome, baselineStream },
  }
}
