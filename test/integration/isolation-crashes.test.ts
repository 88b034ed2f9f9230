/**
 * Isolated plugins that crash or hang (core/isolation/supervisor.ts), on a real nats-server:
 * the process is restarted with back-off, the batch it held is retried, and the sink gets every
 * record exactly once; a plugin that crashes every time stops its stage — with the reason in the
 * run's summary and the stage's metrics — while the rest of the pipeline delivers everything.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { pino } from 'pino'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import type { NatsConnection } from '@nats-io/nats-core'
import { startNatsServer } from '../helpers/nats-server.js'
import { makeTempDir } from '../helpers/tmp.js'
import { assertBuilt, repoRoot, waitFor } from '../helpers/cli.js'
import { loadPipeline } from '../../core/pipeline/load.js'
import { openRegistry } from '../../core/app/session.js'
import { createRuntime } from '../../core/runtime/runtime.js'
import { TributaryError } from '../../core/errors.js'
import { consumerName, streamName } from '../../core/jetstream/names.js'
import type { RuntimeMetrics, StageMeter } from '../../core/metrics/types.js'
import type { Topology } from '../../core/runtime/topology.js'

let nats: Awaited<ReturnType<typeof startNatsServer>>
let tmp: Awaited<ReturnType<typeof makeTempDir>>
let nc: NatsConnection
let home: string

async function place(name: string, kind: string, fixture: string, manifest: Record<string, unknown>): Promise<void> {
  const dir = path.join(home, 'plugins', name)
  await mkdir(dir, { recursive: true })
  await copyFile(path.join(repoRoot, 'test', 'fixtures', 'isolation', fixture), path.join(dir, 'index.js'))
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', type: 'module' }))
  await writeFile(path.join(dir, 'plugin.json'), JSON.stringify({ name, version: '1.0.0', kind, entry: 'index.js', engine: '>=0.1.0', description: 'Crashes (test plugin).', ...manifest }))
}

beforeAll(async () => {
  assertBuilt()
  ;[nats, tmp] = await Promise.all([startNatsServer(), makeTempDir('isolation-crash')])
  nc = await connect({ servers: nats.url })
  home = path.join(tmp.dir, 'home')
  const ids = { type: 'array', items: { type: 'integer' }, default: [] }
  await place('crasher', 'transform', 'crasher.js', {
    config: { type: 'object', required: ['markers'], properties: { markers: { type: 'string', format: 'path' }, exitAt: ids, throwAt: ids, hangAt: ids } },
    // Its only right: write (and read back) the folder its user names in the config.
    permissions: { write: ['${config.markers}'] },
  })
  await place('always-crash', 'sink', 'always-crash.js', { config: { type: 'object', properties: {} } })
})

afterAll(async () => {
  await nc?.close()
  await nats?.stop()
  await tmp?.remove()
})

/** Per-stage errors as the runtime reports them to its metrics (what `pipelines status` shows as lastError). */
function errorMetrics(): { metrics: (t: Topology) => RuntimeMetrics; errors: Map<string, string[]> } {
  const errors = new Map<string, string[]>()
  const meter = (id: string): StageMeter => ({
    batch() {},
    count() {},
    dead() {},
    acked() {},
    written() {},
    consumerRestarted() {},
    error(err) {
      errors.set(id, [...(errors.get(id) ?? []), (err as Error).message])
    },
  })
  return { errors, metrics: () => ({ stage: meter, totals: () => [] }) }
}

async function start(name: string, yaml: string) {
  const dir = path.join(tmp.dir, name)
  await mkdir(path.join(dir, 'markers'), { recursive: true })
  await writeFile(path.join(dir, 'in.ndjson'), Array.from({ length: 3000 }, (_, i) => JSON.stringify({ id: i + 1 })).join('\n') + '\n')
  const file = path.join(dir, 'p.yaml')
  await writeFile(file, `name: ${name}\nsource: { use: file, config: { path: in.ndjson } }\n${yaml}`)
  const logs: string[] = []
  const logger = pino({ level: 'info', base: undefined }, { write: (s: string) => void logs.push(s) })
  const registry = await openRegistry(home)
  const spec = await loadPipeline(file, registry, { env: process.env })
  const { metrics, errors } = errorMetrics()
  const runtime = await createRuntime(spec, { nc, registry, logger, metrics, openClickHouse: () => Promise.reject(new TributaryError('E_CLICKHOUSE', 'not in this test')) })
  const written = async (f: string): Promise<number[]> => (await readFile(path.join(dir, f), 'utf8').catch(() => '')).split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { id: number }).id)
  return { runtime, logs, errors, written }
}

describe('an isolated plugin that crashes', () => {
  it('is restarted after an exit, an uncaught exception and a hang; every record reaches the sink exactly once', async () => {
    const { runtime, logs, written } = await start('flaky', `transforms:
  - { use: crasher, config: { markers: markers, exitAt: [500], throwAt: [1500], hangAt: [2500] } }
sinks: [ { use: file, config: { path: out.ndjson } } ]
isolation: { hookTimeout: 2s, restarts: 3 }
`)
    const summary = await runtime.done
    expect(summary.completed).toBe(true)
    expect(summary.stopped).toBeUndefined()
    const ids = await written('out.ndjson')
    expect(ids.length).toBe(3000)
    expect(new Set(ids).size).toBe(3000)
    expect(summary.groups[0]!.stats).toMatchObject({ in: 3000, out: 3000, dead: 0, acked: 3000 })
    const restarts = logs.filter((l) => l.includes('isolated plugin process died; restarting it')).map((l) => (JSON.parse(l) as { reason: string }).reason)
    // The hang is caught by whichever fires first: the call's timeout or the silent heartbeat.
    expect(restarts).toEqual(['exited with code 3', 'exited with code 1', expect.stringMatching(/^(process\(\) did not answer within 2s|its event loop was blocked for \d+s) \(isolation.hookTimeout/)])
  })

  it('every time: its stage stops after isolation.restarts crashes in a row, the runtime and the other sink go on', async () => {
    const { runtime, logs, errors, written } = await start('doomed', `sinks:
  - { use: file, config: { path: out.ndjson } }
  - { use: always-crash, boundary: true }
isolation: { restarts: 2 }
`)
    // The built-in sink, in its own group, gets everything while the other stage fails.
    await waitFor('the file sink to write 3000 records', async () => (await written('out.ndjson')).length === 3000)
    await waitFor('the crashing stage to stop', () => logs.some((l) => l.includes('stage stopped; the rest of the pipeline runs on')))
    expect(errors.get('always-crash')?.at(-1)).toMatch(/^plugin "always-crash" \(sink, stage always-crash\) stopped after 3 crashes in a row \(isolation.restarts is 2\); the last: exited with code 5/)
    // Its inputs wait, unacknowledged, for a fixed plugin.
    const jsm = await jetstreamManager(nc)
    const info = await jsm.consumers.info(streamName('doomed'), consumerName('doomed', 'always-crash'))
    expect(info.num_pending + info.num_ack_pending).toBe(3000)
    runtime.stop()
    const summary = await runtime.done
    expect(summary.completed).toBe(false)
    expect(summary.stopped?.map((s) => s.stage)).toEqual(['always-crash'])
    expect(new Set(await written('out.ndjson')).size).toBe(3000)
  })
})
