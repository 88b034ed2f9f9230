import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { writeInput } from '../input.js'
import { preloadPipeline, preloadStream } from '../preload.js'
import { count, runBaseline, runTributary, seconds, type BenchContext, type ScenarioResult } from '../scenario.js'

const COLUMNS = '{ id: UInt64, name: String, value: Float64, country: String, ts: String }'

/**
 * Records already in a stream → ClickHouse. Both streams are filled first (not timed); the
 * Tributary pipeline's source reads an empty file, so its run is the sink stage alone.
 */
export async function clickhouseSink(ctx: BenchContext, records: number): Promise<ScenarioResult> {
  const input = path.join(ctx.work, 'sink-input.ndjson')
  const empty = path.join(ctx.work, 'sink-empty.ndjson')
  const { bytes } = await writeInput(input, records)
  await writeFile(empty, '')
  const pipeline = path.join(ctx.work, 'sink.yaml')
  await writeFile(pipeline, `name: bench-sink
source: { use: file, config: { path: ${JSON.stringify(empty)} } }
sinks:
  - use: clickhouse
    config: { table: events, columns: ${COLUMNS}, orderBy: [id] }
`)
  const tributaryHome = path.join(ctx.work, 'sink-tributary-home')
  const baselineHome = path.join(ctx.work, 'sink-baseline-home')
  ctx.log(`clickhouse-sink: filling both streams with ${records} records (not timed)…`)
  await preloadStream(ctx.natsUrl, 'BENCH_SINK', input)
  await preloadPipeline(ctx.natsUrl, pipeline, tributaryHome, input)
  ctx.log('clickhouse-sink: raw-client baseline…')
  const baseline = await runBaseline(ctx, 'sink', [ctx.natsUrl, path.join(baselineHome, 'clickhouse'), 'BENCH_SINK', String(records)])
  ctx.log(`clickhouse-sink: baseline ${seconds(baseline)}; tributary…`)
  const tributary = await runTributary(ctx, ['run', pipeline, '--home', tributaryHome])
  ctx.log(`clickhouse-sink: tributary ${seconds(tributary)}`)
  return { name: 'clickhouse-sink', records, bytes, tributary, baseline, rows: { tributary: count(tributaryHome, 'events'), baseline: count(baselineHome, 'events'), expected: records } }
}
