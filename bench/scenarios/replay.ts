import { stat } from 'node:fs/promises'
import path from 'node:path'
import { count, runBaseline, runTributary, seconds, type BenchContext, type ScenarioResult } from '../scenario.js'
import type { E2eArtifacts } from './e2e.js'

/**
 * The e2e run's retained records → a new table: `tributary replay --into-table` next to an
 * ordered consumer reading the baseline's stream from its first message. Runs after e2e, on its
 * streams and homes.
 */
export async function replay(ctx: BenchContext, e2e: E2eArtifacts, records: number, passing: number): Promise<ScenarioResult> {
  const bytes = (await stat(path.join(ctx.work, 'e2e-input.ndjson'))).size
  ctx.log(`replay: ${records} retained records → a new table: raw-client baseline…`)
  const baseline = await runBaseline(ctx, 'replay', [ctx.natsUrl, path.join(e2e.baselineHome, 'clickhouse'), e2e.baselineStream])
  ctx.log(`replay: baseline ${seconds(baseline)}; tributary replay --into-table…`)
  const tributary = await runTributary(ctx, ['replay', e2e.pipeline, '--into-table', 'events_replay', '--home', e2e.tributaryHome])
  ctx.log(`replay: tributary ${seconds(tributary)}`)
  return { name: 'replay', records, bytes, tributary, baseline, rows: { tributary: count(e2e.tributaryHome, 'events_replay'), baseline: count(e2e.baselineHome, 'events_replay'), expected: passing } }
}
