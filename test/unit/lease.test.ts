import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createLeases } from '../../core/lease/leases.js'
import { leaseTiming, validUntil } from '../../core/lease/timing.js'
import type { LeaseStore } from '../../core/lease/types.js'

/**
 * The store a lease bucket is, in memory: every write stamps the key, and a key whose last write is
 * `ttl` old is gone (the bucket's max_age), leaving no tombstone. `failing` makes every call throw
 * (NATS unreachable).
 */
function memoryStore(ttlMs: number): LeaseStore & { failing: boolean; steal(key: string, value: string): void } {
  const m = new Map<string, { value: string; revision: number; at: number }>()
  let seq = 0
  const live = (key: string) => {
    const e = m.get(key)
    if (e && Date.now() - e.at >= ttlMs) m.delete(key)
    return m.get(key)
  }
  const check = (): void => {
    if (store.failing) throw new Error('no connection')
  }
  const store = {
    failing: false,
    async create(key: string, value: string) {
      check()
      if (live(key)) return undefined
      m.set(key, { value, revision: ++seq, at: Date.now() })
      return seq
    },
    async update(key: string, value: string, revision: number) {
      check()
      if (live(key)?.revision !== revision) return undefined
      m.set(key, { value, revision: ++seq, at: Date.now() })
      return seq
    },
    async get(key: string) {
      check()
      const e = live(key)
      return e ? { value: e.value, revision: e.revision } : undefined
    },
    async delete(key: string, revision: number) {
      check()
      if (live(key)?.revision === revision) m.delete(key)
    },
    async keys(prefix?: string) {
      check()
      return [...m.keys()].filter((k) => live(k) && (!prefix || k.startsWith(prefix))).sort()
    },
    steal(key: string, value: string) {
      m.set(key, { value, revision: ++seq, at: Date.now() })
    },
  }
  return store
}

const TTL = 3000

describe('lease timing', () => {
  it('derives renewal, margin and polling from the TTL', () => {
    expect(leaseTiming(3000)).toEqual({ ttlMs: 3000, renewEveryMs: 1000, safetyMs: 500, pollMs: 750 })
    expect(validUntil(10_000, leaseTiming(3000))).toBe(12_500)
  })
  it('refuses timings where two renewals do not fit before the deadline', () => {
    expect(() => leaseTiming(3000, { renewEveryMs: 1500 })).toThrow(/does not fit/)
    expect(() => leaseTiming(0)).toThrow(/positive/)
  })
})

describe('leases over a store whose max_age is the TTL', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('one owner at a time; renewals keep the lease for many TTLs', async () => {
    const store = memoryStore(TTL)
    const a = createLeases(store, { owner: 'a', timing: leaseTiming(TTL) })
    const b = createLeases(store, { owner: 'b', timing: leaseTiming(TTL) })
    const lease = await a.tryAcquire('p.source')
    expect(lease).toBeDefined()
    expect(await b.tryAcquire('p.source')).toBeUndefined()
    await vi.advanceTimersByTimeAsync(10 * TTL)
    expect(lease!.lost.aborted).toBe(false)
    expect(await b.tryAcquire('p.source')).toBeUndefined()
    expect((await b.holder('p.source'))?.owner).toBe('a')
    expect([...(await b.holders('p.')).keys()]).toEqual(['p.source'])
    await a.close()
    expect(lease!.lost.aborted).toBe(true)
    expect(await b.tryAcquire('p.source')).toBeDefined()
    await b.close()
  })

  it('a renewal refused (the key was taken) loses the lease at once', async () => {
    const store = memoryStore(TTL)
    const a = createLeases(store, { owner: 'a', timing: leaseTiming(TTL) })
    const lease = (await a.tryAcquire('k'))!
    store.steal('k', JSON.stringify({ owner: 'b', acquiredAt: '', renewedAt: '' }))
    await vi.advanceTimersByTimeAsync(1000)
    expect(lease.lost.aborted).toBe(true)
    expect((lease.lost.reason as { code?: string }).code).toBe('E_LEASE')
    // Releasing a lost lease does not delete the new owner's key.
    await lease.release()
    expect((await a.holder('k'))?.owner).toBe('b')
  })

  it('an owner cut off from the store gives up before the key can expire, and another takes over after expiry', async () => {
    const store = memoryStore(TTL)
    const errors: unknown[] = []
    const a = createLeases(store, { owner: 'a', timing: leaseTiming(TTL), onError: (_k, e) => errors.push(e) })
    const b = createLeases(store, { owner: 'b', timing: leaseTiming(TTL) })
    const t0 = Date.now()
    const lease = (await a.tryAcquire('k'))!
    await vi.advanceTimersByTimeAsync(1000) // one renewal succeeded at t0 + 1000
    store.failing = true
    let lostAt = 0
    lease.lost.addEventListener('abort', () => (lostAt = Date.now()))
    await vi.advanceTimersByTimeAsync(TTL)
    expect(lease.lost.aborted).toBe(true)
    expect(errors.length).toBeGreaterThan(0)
    // Lost at the last good renewal + ttl - margin: before the store expires the key (t0 + 1000 + ttl).
    expect(lostAt).toBe(t0 + 1000 + TTL - 500)
    store.failing = false
    const ac = new AbortController()
    const taken = await b.acquire('k', ac.signal)
    expect(Date.now()).toBeGreaterThanOrEqual(t0 + 1000 + TTL)
    expect(taken?.owner).toBe('b')
    await b.close()
    await a.close()
  })

  it('acquire waits for the holder to release, and returns undefined once aborted', async () => {
    const store = memoryStore(TTL)
    const a = createLeases(store, { owner: 'a', timing: leaseTiming(TTL) })
    const b = createLeases(store, { owner: 'b', timing: leaseTiming(TTL) })
    const lease = (await a.tryAcquire('k'))!
    const ac = new AbortController()
    const waiting = b.acquire('k', ac.signal)
    await vi.advanceTimersByTimeAsync(5 * TTL)
    await lease.release()
    await vi.advanceTimersByTimeAsync(TTL)
    expect((await waiting)?.owner).toBe('b')
    const other = new AbortController()
    const never = a.acquire('k', other.signal)
    await vi.advanceTimersByTimeAsync(TTL)
    other.abort()
    await vi.advanceTimersByTimeAsync(TTL)
    expect(await never).toBeUndefined()
    await b.close()
  })
})
