import path from 'node:path'
import { writeInput } from '../input.js'
import { count, runBaseline, seconds, type BenchContext } from '../scenario.js'
import type { ProcessRun } from '../measure.js'

export interface FloorResult {
  records: number
  run: ProcessRun
  rows: number
  expected: number
}

/** The seed design (await every publish, ack every message, insert row by row) on a small input. */
export async function floor(ctx: BenchContext, records: number): Promise<FloorResult> {
  const input = path.join(ctx.work, 'floor-input.ndjson')
  const { passing } = await writeInput(input, records)
  const home = path.join(ctx.work, 'floor-home')
  ctx.log(`floor: ${records} records, seed design…`)
  const run = await runBaseline(ctx, 'floor', [input, ctx.natsUrl, path.join(home, 'clickhouse'), 'BENCH_FLOOR'])
  ctx.log(`floor: ${seconds(run)}`)
  return { records, run, rows: count(home, 'events'), expected: passing }
}
