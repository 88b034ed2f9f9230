import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { jetstreamManager } from '@nats-io/jetstream'
import { writeInput } from '../input.js'
import { postBatches } from '../post.js'
import { connectRaw } from '../baseline/raw-clients.js'
import { checked, count, seconds, startBaseline, startTributary, type BenchContext, type ScenarioResult } from '../scenario.js'
import type { TimedProcess } from '../measure.js'
import { consumerName, streamName } from '../../core/jetstream/names.js'

const COLUMNS = '{ id: UInt64, name: String, value: Float64, country: String, ts: String }'

async function waitForLine<T>(p: TimedProcess, find: (line: string) => T | undefined, what: string): Promise<T> {
  for (;;) {
    for (const line of p.stderr().split('\n')) {
      const v = find(line)
      if (v !== undefined) return v
    }
    if (p.child.exitCode !== null) throw new Error(`${what}: the process exited ${p.child.exitCode}:\n${p.stderr().slice(-4000)}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/**
 * Records posted in NDJSON batches of 1000 (4 at a time) to the `http` source → ClickHouse. The
 * baseline exits once it has inserted every row; Tributary is sent SIGTERM as soon as its
 * consumer has acknowledged everything (acks follow the inserts), and drains.
 */
export async function http(ctx: BenchContext, records: number): Promise<ScenarioResult> {
  const input = path.join(ctx.work, 'http-input.ndjson')
  const { bytes } = await writeInput(input, records)
  const pipeline = path.join(ctx.work, 'http.yaml')
  await writeFile(pipeline, `name: bench-http
source: { use: http, config: { port: 0, path: /events } }
sinks:
  - use: clickhouse
    config: { table: events, columns: ${COLUMNS}, orderBy: [id] }
`)
  ctx.log(`http: ${records} records posted in batches of 1000: raw-client baseline…`)
  const baselineHome = path.join(ctx.work, 'http-baseline-home')
  const b = startBaseline(ctx, 'http', [ctx.natsUrl, path.join(baselineHome, 'clickhouse'), 'BENCH_HTTP', String(records)])
  const port = await waitForLine(b, (l) => /^listening (\d+)$/.exec(l)?.[1], 'http baseline')
  await postBatches(`http://127.0.0.1:${port}/`, input)
  const baseline = checked('baseline http', await b.done)
  ctx.log(`http: baseline ${seconds(baseline)}; tributary…`)

  const tributaryHome = path.join(ctx.work, 'http-tributary-home')
  const t = startTributary(ctx, ['run', pipeline, '--home', tributaryHome], { ...ctx.env, TRIBUTARY_LOG_LEVEL: 'info' })
  const url = await waitForLine(
    t,
    (l) => {
      try {
        const o = JSON.parse(l) as { msg?: string; url?: string }
        return o.msg === 'http source listening' ? o.url : undefined
      } catch {
        return undefined
      }
    },
    'tributary http source',
  )
  await postBatches(url, input)
  const nc = await connectRaw(ctx.natsUrl)
  try {
    const jsm = await jetstreamManager(nc)
    for (;;) {
      const c = await jsm.consumers.info(streamName('bench-http'), consumerName('bench-http', 'clickhouse'))
      if (c.num_pending === 0 && c.num_ack_pending === 0 && c.delivered.stream_seq >= records) break
      await new Promise((r) => setTimeout(r, 50))
    }
  } finally {
    await nc.close()
  }
  t.child.kill('SIGTERM')
  const tributary = checked('tributary http', await t.done)
  ctx.log(`http: tributary ${seconds(tributary)}`)
  return { name: 'http', records, bytes, tributary, baseline, rows: { tributary: count(tributaryHome, 'events'), baseline: count(baselineHome, 'events'), expected: records } }
}
