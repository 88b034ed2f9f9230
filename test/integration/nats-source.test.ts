import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { headers } from '@nats-io/nats-core'
import { readDlq } from '../helpers/dlq.js'
import { startPipelineEnv, type PipelineEnv } from '../helpers/pipeline-env.js'
import { waitFor, type Background } from '../helpers/cli.js'

let t: PipelineEnv

beforeAll(async () => {
  t = await startPipelineEnv('nats-source', { cli: true })
})

afterAll(async () => {
  await t?.close()
})

function start(file: string): Background {
  return t.spawn(['run', file])
}

async function stop(run: Background): Promise<void> {
  run.child.kill('SIGTERM')
  const code = await Promise.race([run.exited, new Promise<string>((r) => setTimeout(() => r('still running 30 s after SIGTERM'), 30_000).unref())])
  if (code !== 0) throw new Error(`tributary run: ${String(code)}\n${run.stderr()}`)
}

async function lines<T = Record<string, unknown>>(file: string): Promise<T[]> {
  const text = await readFile(file, 'utf8').catch(() => '')
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as T)
}

const running = (run: Background): void => {
  if (run.child.exitCode !== null) throw new Error(`tributary run exited ${run.child.exitCode}: ${run.stderr()}`)
}

describe('nats source (real nats-server, compiled CLI)', () => {
  it('reads a core subject: every message published while subscribed, with its headers and subject; malformed payloads to the DLQ', async () => {
    const file = path.join(t.dir, 'corein.yaml')
    const data = path.join(t.dir, 'core-data.ndjson')
    const probes = path.join(t.dir, 'core-probes.ndjson')
    await writeFile(file, `name: corein
source: { use: nats, config: { subject: "in.core.>", headersField: meta, subjectField: subj } }
sinks:
  - { id: probes, use: file, where: "kind == 'probe'", config: { path: core-probes.ndjson } }
  - { id: data, use: file, where: "kind == 'data'", config: { path: core-data.ndjson } }
`)
    const run = start(file)
    // Core NATS keeps nothing for late subscribers: probe until the pipeline is subscribed.
    await waitFor('the source to subscribe', async () => {
      running(run)
      t.nc.publish('in.core.probe', JSON.stringify({ kind: 'probe' }))
      return (await lines(probes)).length > 0
    })
    for (let i = 1; i <= 500; i++) {
      const h = headers()
      h.set('X-Trace', `t${i}`)
      t.nc.publish(`in.core.${i % 2 ? 'odd' : 'even'}`, JSON.stringify({ kind: 'data', id: i }), { headers: h })
    }
    t.nc.publish('in.core.bad', 'not json')
    t.nc.publish('in.core.bad', '[1,2]')
    await t.nc.flush()
    await waitFor('500 data records', async () => (await lines(data)).length >= 500)
    await stop(run)

    const got = await lines<{ id: number; subj: string; meta: Record<string, string> }>(data)
    expect(got.map((r) => r.id).sort((a, b) => a - b)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1))
    for (const r of got) {
      expect(r.subj).toBe(`in.core.${r.id % 2 ? 'odd' : 'even'}`)
      expect(r.meta['X-Trace']).toBe(`t${r.id}`)
    }
    const dlq = await readDlq(t.nc, 'corein')
    expect(dlq.map((d) => d.data).sort()).toEqual(['[1,2]', 'not json'])
  })

  it('reads a JetStream stream through a durable consumer: exact counts, acked upstream only once stored, and resumes after a restart', async () => {
    const jsm = await jetstreamManager(t.nc)
    const js = jetstream(t.nc)
    await jsm.streams.add({ name: 'UPSTREAM', subjects: ['up.>'] })
    const publish = async (from: number, to: number): Promise<void> => {
      const acks = []
      for (let i = from; i <= to; i++) {
        acks.push(js.publish('up.a', JSON.stringify({ id: i })))
        if (i % 4 === 0) acks.push(js.publish('up.b', JSON.stringify({ id: -i })))
      }
      await Promise.all(acks)
    }
    await publish(1, 400)
    await js.publish('up.a', 'broken {')

    const file = path.join(t.dir, 'jsin.yaml')
    const out = path.join(t.dir, 'js.ndjson')
    await writeFile(file, `name: jsin
source: { use: nats, config: { stream: UPSTREAM, filterSubject: up.a, batchSize: 64 } }
sinks: [ { use: file, config: { path: js.ndjson } } ]
`)
    const settled = async (): Promise<boolean> => {
      const ci = await jsm.consumers.info('UPSTREAM', 'jsin--nats').catch(() => undefined)
      return ci !== undefined && ci.num_pending === 0 && ci.num_ack_pending === 0
    }
    let run = start(file)
    await waitFor('400 records and the upstream consumer fully acked', async () => {
      running(run)
      return (await lines(out)).length >= 400 && (await settled())
    })
    await stop(run)
    expect((await lines(out)).length).toBe(400)

    // Published while the pipeline is down: the durable consumer keeps them.
    await publish(401, 550)
    run = start(file)
    await waitFor('550 records', async () => {
      running(run)
      return (await lines(out)).length >= 550 && (await settled())
    })
    await stop(run)

    const ids = (await lines<{ id: number }>(out)).map((r) => r.id).sort((a, b) => a - b)
    expect(ids).toEqual(Array.from({ length: 550 }, (_, i) => i + 1))
    const ci = await jsm.consumers.info('UPSTREAM', 'jsin--nats')
    expect(ci.num_redelivered).toBe(0)
    expect(ci.ack_floor.stream_seq).toBe(ci.delivered.stream_seq)
    const dlq = await readDlq(t.nc, 'jsin')
    expect(dlq.map((d) => d.data)).toEqual(['broken {'])
  })

  it('acknowledges upstream only what is stored: a full pipeline stream holds the rest upstream, and after kill -9 and a larger stream every message lands exactly once', async () => {
    const jsm = await jetstreamManager(t.nc)
    const js = jetstream(t.nc)
    await jsm.streams.add({ name: 'UPFULL', subjects: ['full.>'] })
    await Promise.all(Array.from({ length: 200 }, (_, i) => js.publish('full.x', JSON.stringify({ id: i + 1, pad: 'f'.repeat(100) }))))
    const file = path.join(t.dir, 'jsfull.yaml')
    const out = path.join(t.dir, 'jsfull.ndjson')
    const pipeline = (maxBytes: string): string => `name: jsfull
retention: { maxBytes: ${maxBytes} }
source: { use: nats, config: { stream: UPFULL, batchSize: 10, ackWait: 2s } }
sinks: [ { use: file, config: { path: jsfull.ndjson } } ]
# What the killed run's group held unacked comes back after this, not the default 60 s.
delivery: { ackWait: 5s }
`
    await writeFile(file, pipeline('8KB'))
    const run = start(file)
    const sourceSubject = 'trib.jsfull.nats'
    // The stream fills and stays full (limits retention): the source waits for room, holding the rest.
    await waitFor('the pipeline stream to fill', async () => {
      running(run)
      const ci = await jsm.consumers.info('UPFULL', 'jsfull--nats').catch(() => undefined)
      return ci !== undefined && ci.num_ack_pending > 0 && (await lines(out)).length > 0
    })
    // Consumer first, stream second: what is stored can only grow in between.
    const ci = await jsm.consumers.info('UPFULL', 'jsfull--nats')
    const stored = (await jsm.streams.info('TRIB_JSFULL', { subjects_filter: sourceSubject })).state.subjects?.[sourceSubject] ?? 0
    expect(stored).toBeLessThan(200)
    expect(ci.ack_floor.stream_seq).toBeLessThanOrEqual(stored)
    expect(ci.num_pending + ci.num_ack_pending).toBe(200 - ci.ack_floor.stream_seq)
    run.child.kill('SIGKILL')
    await run.exited

    // Room again: unacknowledged messages are redelivered (after ackWait); those already stored are dropped as duplicates.
    await writeFile(file, pipeline('1MB'))
    const again = start(file)
    await waitFor('200 records', async () => {
      running(again)
      return (await lines(out)).length >= 200
    })
    await waitFor('the upstream consumer fully acked', async () => {
      const c = await jsm.consumers.info('UPFULL', 'jsfull--nats')
      return c.num_pending === 0 && c.num_ack_pending === 0
    })
    await stop(again)
    const ids = (await lines<{ id: number }>(out)).map((r) => r.id).sort((a, b) => a - b)
    expect(ids).toEqual(Array.from({ length: 200 }, (_, i) => i + 1))
    const info = await jsm.streams.info('TRIB_JSFULL', { subjects_filter: sourceSubject })
    expect(info.state.subjects?.[sourceSubject]).toBe(200)
  })
})
