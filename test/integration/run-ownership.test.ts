import { describe, expect, it } from 'vitest'
import { connect } from '@nats-io/transport-node'
import { AckPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream'
import { Kvm } from '@nats-io/kv'
import os, { hostname } from 'node:os'
import path from 'node:path'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { natsForSuite } from '../helpers/nats-server.js'
import { holdRunLease } from '../../core/runtime/run-lease.js'
import { ensureDurable } from '../../core/jetstream/consumer.js'
import { redeliveredThrough } from '../../core/jetstream/durable-handover.js'
import { RUN_LEASES_BUCKET } from '../../core/jetstream/names.js'
import { instanceId } from '../../core/status/heartbeat.js'
import { TributaryError } from '../../core/errors.js'
import { deployPipeline } from '../../core/fleet/deploy.js'
import { openRegistry } from '../../core/app/session.js'

// One `run` per pipeline (its run lease), and the durables it then owns under ack policy all,
// switched from and back to the explicit acks a fleet shares. Real nats-server.
const suite = natsForSuite()

describe('the run lease', () => {
  it('refuses a second run of a pipeline while the first holds it, and frees it on release', async () => {
    // The first run stands for another live process on this host (the test runner's parent).
    const other = instanceId(hostname(), process.ppid)
    const first = await holdRunLease(suite.nc, 'leased', { owner: other })
    const err = await holdRunLease(suite.nc, 'leased').then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(TributaryError)
    expect((err as TributaryError).code).toBe('E_RUNNING')
    expect((err as TributaryError).message).toContain(other)
    expect((err as TributaryError).hint).toMatch(/fleet/)
    await first.release()
    const again = await holdRunLease(suite.nc, 'leased')
    expect(again.lost.aborted).toBe(false)
    await again.release()
  })

  it('takes its own record back (a lease this process lost track of under load is not another run)', async () => {
    const first = await holdRunLease(suite.nc, 'mine')
    // As if its renewals had been answered too late: the record is still this process's.
    const again = await holdRunLease(suite.nc, 'mine')
    expect(again.lost.aborted).toBe(false)
    await again.release()
    await first.release().catch(() => undefined)
  })

  it('takes over at once from a holder on this host whose process is gone (kill -9)', async () => {
    const kv = await new Kvm(jetstream(suite.nc)).open(RUN_LEASES_BUCKET)
    // A pid that cannot exist (above pid_max), as a crashed run would have left it.
    const now = new Date().toISOString()
    await kv.create('crashed', JSON.stringify({ owner: instanceId(hostname(), 4_194_304 + 1), acquiredAt: now, renewedAt: now }))
    const lease = await holdRunLease(suite.nc, 'crashed')
    const held = JSON.parse((await kv.get('crashed'))!.string()) as { owner: string }
    expect(held.owner).toBe(instanceId(hostname(), process.pid))
    await lease.release()
  })

  it('keeps a fleet from deploying a pipeline while its run is live', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'trib-runown-'))
    try {
      await writeFile(path.join(dir, 'in.ndjson'), '{"n":1}\n')
      const file = path.join(dir, 'deployed.yaml')
      await writeFile(file, 'name: deployed\nsource: { use: file, config: { path: in.ndjson } }\nsinks: [ { use: file, config: { path: out.ndjson } } ]\n')
      const registry = await openRegistry(path.join(dir, 'home'))
      const lease = await holdRunLease(suite.nc, 'deployed')
      try {
        const err = await deployPipeline(suite.nc, registry, { fleet: 'own', target: file, env: process.env }).then(
          () => undefined,
          (e: unknown) => e as TributaryError,
        )
        expect(err?.code).toBe('E_FLEET')
        expect(err?.message).toContain(instanceId(hostname(), process.pid))
      } finally {
        await lease.release()
      }
      const done = await deployPipeline(suite.nc, registry, { fleet: 'own', target: file, env: process.env })
      expect(done.revision).toBe(1)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('refuses a live holder on another host', async () => {
    const kv = await new Kvm(jetstream(suite.nc)).open(RUN_LEASES_BUCKET)
    const now = new Date().toISOString()
    await kv.create('elsewhere', JSON.stringify({ owner: 'other-host-1', acquiredAt: now, renewedAt: now }))
    await expect(holdRunLease(suite.nc, 'elsewhere')).rejects.toMatchObject({ code: 'E_RUNNING' })
  })
})

describe('a group durable handed over: between explicit acks and ack policy all, and to a new owner', () => {
  const stream = 'OWN'
  const spec = (ackAll: boolean) => ({ stream, name: 'own--g', filterSubject: 'own.in', maxAckPending: 1000, ackWaitMs: 30_000, maxDeliver: -1, ackAll })

  it('starts after the old ack floor and counts what the old one delivered past it as possibly processed', async () => {
    const jsm = await jetstreamManager(suite.nc)
    const js = jetstream(suite.nc)
    await jsm.streams.add({ name: stream, subjects: ['own.>'] })
    for (let i = 1; i <= 40; i++) await js.publish('own.in', String(i))
    const shared = await ensureDurable(jsm, spec(false))
    expect(shared.config.ack_policy).toBe(AckPolicy.Explicit)
    // A fleet worker acked 1–10 and 12–20, and was handed 21–25 when it stopped.
    const got: JsMsg[] = []
    for await (const m of await js.consumers.get(stream, 'own--g').then((c) => c.fetch({ max_messages: 25, expires: 2000 }))) got.push(m)
    expect(got).toHaveLength(25)
    for (const m of got) if (m.seq <= 20 && m.seq !== 11) m.ack()
    await suite.nc.flush()

    const owned = await ensureDurable(jsm, spec(true))
    expect(owned.config.ack_policy).toBe(AckPolicy.All)
    expect(owned.config.opt_start_seq).toBe(11)
    expect(redeliveredThrough(owned)).toBe(25)
    const first: JsMsg[] = []
    for await (const m of await js.consumers.get(stream, 'own--g').then((c) => c.fetch({ max_messages: 5, expires: 2000 }))) first.push(m)
    expect(first.map((m) => m.seq)).toEqual([11, 12, 13, 14, 15])
    first[4]!.ack() // ack policy all: settles 11–15
    await suite.nc.flush()

    // The run is killed holding 16–30: the next run must get 16 first, not 31 (an ack of 31
    // would settle 16–30 unseen).
    const held: JsMsg[] = []
    for await (const m of await js.consumers.get(stream, 'own--g').then((c) => c.fetch({ max_messages: 15, expires: 2000 }))) held.push(m)
    expect(held.map((m) => m.seq)).toEqual(Array.from({ length: 15 }, (_, i) => 16 + i))
    const next = await ensureDurable(jsm, spec(true))
    expect(next.config.opt_start_seq).toBe(16)
    expect(redeliveredThrough(next)).toBe(30)
    const resumed: JsMsg[] = []
    for await (const m of await js.consumers.get(stream, 'own--g').then((c) => c.fetch({ max_messages: 1, expires: 2000 }))) resumed.push(m)
    expect(resumed.map((m) => m.seq)).toEqual([16])

    // Back to a fleet: after the floor (15); what was delivered past it is still counted.
    const sharedAgain = await ensureDurable(jsm, spec(false))
    expect(sharedAgain.config.ack_policy).toBe(AckPolicy.Explicit)
    expect(sharedAgain.config.opt_start_seq).toBe(16)
    expect(redeliveredThrough(sharedAgain)).toBe(30)
    // A changed setting updates it in place, keeping where it starts and why.
    const same = await ensureDurable(jsm, { ...spec(false), maxAckPending: 2000 })
    expect(same.config.max_ack_pending).toBe(2000)
    expect(same.config.opt_start_seq).toBe(16)
    expect(redeliveredThrough(same)).toBe(30)
  })

  it('is refused while another process still pulls from the durable', async () => {
    const jsm = await jetstreamManager(suite.nc)
    const other = await connect({ servers: suite.url })
    try {
      await jsm.streams.add({ name: 'BUSY', subjects: ['busy.>'] })
      const d = { stream: 'BUSY', name: 'busy--g', filterSubject: 'busy.in', maxAckPending: 1000, ackWaitMs: 30_000, maxDeliver: -1 }
      await ensureDurable(jsm, { ...d, ackAll: false })
      // A worker waiting on a long pull: nothing to deliver, so the request stays open.
      const iter = await jetstream(other).consumers.get('BUSY', 'busy--g').then((c) => c.fetch({ max_messages: 10, expires: 30_000 }))
      const pulling = (async () => {
        for await (const _ of iter) void _
      })()
      // The pull must reach the server before the switch looks (the test's order, not a timing).
      for (let i = 0; (await jsm.consumers.info('BUSY', 'busy--g')).num_waiting === 0; i++) {
        if (i > 100) throw new Error('the pull request never reached the server')
        await new Promise((r) => setTimeout(r, 50))
      }
      await expect(ensureDurable(jsm, { ...d, ackAll: true })).rejects.toMatchObject({ code: 'E_DURABLE_IN_USE' })
      iter.stop()
      await pulling.catch(() => undefined)
      expect((await jsm.consumers.info('BUSY', 'busy--g')).config.ack_policy).toBe(AckPolicy.Explicit)
    } finally {
      await other.close()
    }
  })
})
