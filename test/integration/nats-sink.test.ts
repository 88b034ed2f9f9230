import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { connect } from '@nats-io/transport-node'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import type { Msg, NatsConnection } from '@nats-io/nats-core'
import { startNatsServer } from '../helpers/nats-server.js'
import { makeTempDir } from '../helpers/tmp.js'
import { readDlq } from '../helpers/dlq.js'
import { runPipelineFile } from '../../core/app/run-pipeline.js'

let nats: Awaited<ReturnType<typeof startNatsServer>>
let tmp: Awaited<ReturnType<typeof makeTempDir>>
let nc: NatsConnection
let env: NodeJS.ProcessEnv
let home: string

beforeAll(async () => {
  ;[nats, tmp] = await Promise.all([startNatsServer(), makeTempDir('nats-sink')])
  nc = await connect({ servers: nats.url })
  env = { ...process.env, NATS_URL: nats.url }
  home = path.join(tmp.dir, 'home')
})

afterAll(async () => {
  await nc?.close()
  await nats?.stop()
  await tmp?.remove()
})

const REGIONS = ['eu', 'us', 'apac']

async function writeInput(name: string): Promise<{ id: number; region?: string }[]> {
  const records: { id: number; region?: string }[] = Array.from({ length: 600 }, (_, i) => ({ id: i + 1, region: REGIONS[i % 3]! }))
  // Records the template cannot route: no field, and a value that would change the subject's shape.
  records.push({ id: 601 }, { id: 602, region: 'a.b' })
  await writeFile(path.join(tmp.dir, name), records.map((r) => JSON.stringify(r)).join('\n') + '\n')
  return records
}

describe('nats sink (real nats-server)', () => {
  it('core publish: every record reaches a subscriber on its templated subject, with the static headers and a unique Nats-Msg-Id; unroutable records go to the DLQ', async () => {
    await writeInput('fan.ndjson')
    const got: Msg[] = []
    const sub = nc.subscribe('teams.>', { callback: (_err, m) => got.push(m) })
    await nc.flush()
    const file = path.join(tmp.dir, 'fan.yaml')
    await writeFile(file, `name: fan
source: { use: file, config: { path: fan.ndjson } }
sinks:
  - { use: nats, config: { subject: "teams.{region}.events", headers: { X-Team: analytics, X-Source: tributary } } }
`)
    const summary = await runPipelineFile(file, { home, env })
    expect(summary.completed).toBe(true)
    // The sink flushed before acking: everything is already at the server; this round trip
    // only makes sure our own subscription has seen it all.
    await nc.flush()
    sub.unsubscribe()

    expect(got).toHaveLength(600)
    for (const m of got) {
      const r = JSON.parse(m.string()) as { id: number; region: string }
      expect(m.subject).toBe(`teams.${r.region}.events`)
      expect(m.headers?.get('X-Team')).toBe('analytics')
      expect(m.headers?.get('X-Source')).toBe('tributary')
    }
    expect(new Set(got.map((m) => (JSON.parse(m.string()) as { id: number }).id)).size).toBe(600)
    const ids = got.map((m) => m.headers?.get('Nats-Msg-Id') ?? '')
    expect(new Set(ids).size).toBe(600)
    expect(ids.every((id) => /^fan:file:\d+:\d+@nats$/.test(id))).toBe(true)

    const dlq = await readDlq(nc, 'fan')
    expect(dlq).toHaveLength(2)
    const reasons = dlq.map((d) => d.headers['Trib-Reason']).sort()
    expect(reasons[0]).toMatch(/field region .* is "a\.b"/)
    expect(reasons[1]).toMatch(/field region .* is missing/)
  })

  it('JetStream publish: the named stream holds each record once, deduplicated by message id', async () => {
    await writeInput('js.ndjson')
    const jsm = await jetstreamManager(nc)
    await jsm.streams.add({ name: 'TEAMS_OUT', subjects: ['out.>'] })
    const file = path.join(tmp.dir, 'jsout.yaml')
    await writeFile(file, `name: jsout
source: { use: file, config: { path: js.ndjson } }
sinks:
  - { use: nats, config: { subject: "out.{region}", stream: TEAMS_OUT, headers: { X-Team: analytics } } }
`)
    const summary = await runPipelineFile(file, { home, env })
    expect(summary.completed).toBe(true)
    const info = await jsm.streams.info('TEAMS_OUT', { subjects_filter: '>' })
    expect(info.state.messages).toBe(600)
    expect(info.state.subjects).toEqual({ 'out.eu': 200, 'out.us': 200, 'out.apac': 200 })

    const last = await jetstream(nc).streams.get('TEAMS_OUT').then((s) => s.getMessage({ last_by_subj: 'out.eu' }))
    expect(last?.header.get('X-Team')).toBe('analytics')
    expect(last?.header.get('Nats-Msg-Id')).toMatch(/^jsout:file:\d+:\d+@nats$/)
    expect((await readDlq(nc, 'jsout')).length).toBe(2)

    // Redeliver everything to the sink (a new durable starts from the beginning): the same
    // message ids, so the stream drops every copy.
    await jsm.consumers.delete('TRIB_JSOUT', 'jsout--nats')
    const again = await runPipelineFile(file, { home, env })
    expect(again.completed).toBe(true)
    expect(again.groups[0]!.stats.in).toBe(602)
    expect((await jsm.streams.info('TEAMS_OUT')).state.messages).toBe(600)
  })

  it('refuses an invalid subject template when the pipeline starts', async () => {
    await writeFile(path.join(tmp.dir, 'bad.ndjson'), '{"id":1}\n')
    const file = path.join(tmp.dir, 'badsubj.yaml')
    await writeFile(file, `name: badsubj
source: { use: file, config: { path: bad.ndjson } }
sinks: [ { use: nats, config: { subject: "teams.{region" } } ]
`)
    await expect(runPipelineFile(file, { home, env })).rejects.toThrow(/plugin "nats" \(sink, stage nats\) failed in open\(\): subject template "teams.\{region": unbalanced/)
  })
})
