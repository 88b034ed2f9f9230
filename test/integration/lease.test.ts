import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jetstream } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/nats-core'
import { startNatsServer } from '../helpers/nats-server.js'
import { waitFor } from '../helpers/cli.js'
import { connectNats } from '../../core/nats/connect.js'
import { createLeases } from '../../core/lease/leases.js'
import { kvLeaseStore, openLeaseBucket } from '../../core/lease/kv-store.js'
import { leaseTiming } from '../../core/lease/timing.js'

// Leases on a real nats-server 2.9: a bucket whose max_age is the TTL (per-key TTL is ignored).
const TTL = 1500
let nats: Awaited<ReturnType<typeof startNatsServer>>
let a: NatsConnection
let b: NatsConnection

async function leasesFor(nc: NatsConnection, owner: string) {
  const { kv, ttlMs } = await openLeaseBucket(jetstream(nc), 'trib-test-leases', { ttlMs: TTL })
  return createLeases(kvLeaseStore(kv), { owner, timing: leaseTiming(ttlMs) })
}

beforeAll(async () => {
  nats = await startNatsServer()
  ;[a, b] = await Promise.all([connectNats({ servers: [nats.url] }), connectNats({ servers: [nats.url] })])
})

afterAll(async () => {
  await Promise.all([a?.close(), b?.close()])
  await nats?.stop()
})

describe('leases in a KV bucket whose max_age is the TTL', () => {
  it('the bucket keeps the TTL it was created with', async () => {
    const { ttlMs } = await openLeaseBucket(jetstream(a), 'trib-test-leases', { ttlMs: TTL })
    const again = await openLeaseBucket(jetstream(b), 'trib-test-leases', { ttlMs: 60_000 })
    expect([ttlMs, again.ttlMs]).toEqual([TTL, TTL])
  })

  it('acquire, renew past many TTLs, lose on expiry, and another owner takes over', async () => {
    const la = await leasesFor(a, 'a')
    const lb = await leasesFor(b, 'b')
    const lease = await la.tryAcquire('orders.source')
    expect(lease?.owner).toBe('a')
    expect(await lb.tryAcquire('orders.source')).toBeUndefined()

    // Renewals keep the key alive well past its max_age.
    const until = Date.now() + 4 * TTL
    await waitFor('4 TTLs of renewals', async () => {
      expect(await lb.tryAcquire('orders.source')).toBeUndefined()
      return Date.now() > until
    })
    expect(lease!.lost.aborted).toBe(false)
    expect((await lb.holder('orders.source'))?.owner).toBe('a')

    // The holder is cut off (its connection closes): it stops renewing, counts the lease as lost
    // before the server expires the key, and only then can b take it.
    let lostAt = 0
    lease!.lost.addEventListener('abort', () => (lostAt = Date.now()))
    await a.close()
    const waiting = new AbortController()
    const taken = await lb.acquire('orders.source', waiting.signal)
    const takenAt = Date.now()
    expect(taken?.owner).toBe('b')
    expect(lease!.lost.aborted).toBe(true)
    expect(lostAt).toBeGreaterThan(0)
    expect(lostAt).toBeLessThanOrEqual(takenAt)
    expect((await lb.holder('orders.source'))?.owner).toBe('b')

    // A third owner cannot take it while b renews; b's release frees it at once.
    const lc = await leasesFor(b, 'c')
    expect(await lc.tryAcquire('orders.source')).toBeUndefined()
    await taken!.release()
    expect((await lc.tryAcquire('orders.source'))?.owner).toBe('c')
    expect([...(await lc.holders('orders.')).entries()].map(([k, r]) => [k, r.owner])).toEqual([['orders.source', 'c']])
    await lc.close()
    await lb.close()
  })
})
