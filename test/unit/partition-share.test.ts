import { afterEach, describe, expect, it, vi } from 'vitest'
import { createLeases } from '../../core/lease/leases.js'
import { leaseTiming } from '../../core/lease/timing.js'
import type { Lease, LeaseStore } from '../../core/lease/types.js'
import { createLogger } from '../../core/log/logger.js'
import { PartitionShare, fairShare } from '../../core/fleet/worker/partition-share.js'

/** A lease bucket in memory; `expire(owner)` is what max_age does to a dead worker's keys. */
function memoryStore(): LeaseStore & { expire(owner: string): void; owners(): Record<string, string> } {
  const m = new Map<string, { value: string; revision: number }>()
  let seq = 0
  return {
    async create(key, value) {
      if (m.has(key)) return undefined
      m.set(key, { value, revision: ++seq })
      return seq
    },
    async update(key, value, revision) {
      if (m.get(key)?.revision !== revision) return undefined
      m.set(key, { value, revision: ++seq })
      return seq
    },
    async get(key) {
      return m.get(key)
    },
    async delete(key, revision) {
      if (m.get(key)?.revision === revision) m.delete(key)
    },
    async keys(prefix) {
      return [...m.keys()].filter((k) => !prefix || k.startsWith(prefix)).sort()
    },
    expire(owner) {
      for (const [k, v] of m) if ((JSON.parse(v.value) as { owner: string }).owner === owner) m.delete(k)
    },
    owners() {
      return Object.fromEntries([...m].map(([k, v]) => [k, (JSON.parse(v.value) as { owner: string }).owner]))
    },
  }
}

const logger = createLogger({ level: 'silent' })
const KEYS = ['p.stateful.w.p0', 'p.stateful.w.p1', 'p.stateful.w.p2', 'p.stateful.w.p3']
const stops: AbortController[] = []
afterEach(() => stops.splice(0).forEach((s) => s.abort()))

/** A worker's partition units: each waits for its lease, holds it until lost (or handed back), then waits again. */
function worker(store: LeaseStore, owner: string, live: { n: number }, starvedAfterMs = 60_000) {
  const leases = createLeases(store, { owner, timing: leaseTiming(600) })
  const share = new PartitionShare({ leases, total: KEYS.length, liveWorkers: async () => live.n, logger, starvedAfterMs })
  const stop = new AbortController()
  stops.push(stop)
  const held = new Set<string>()
  for (const key of KEYS) {
    void (async () => {
      while (!stop.signal.aborted) {
        const lease: Lease | undefined = await share.acquire(key, stop.signal)
        if (!lease) return
        held.add(key)
        await new Promise<void>((resolve) => (lease.lost.aborted ? resolve() : lease.lost.addEventListener('abort', () => resolve(), { once: true })))
        held.delete(key)
        await lease.release()
      }
    })()
  }
  void share.balance(stop.signal, 100)
  return { share, held, stop, leases }
}

describe('a worker`s share of key partitions', () => {
  it('fair share is ceil(partitions / live workers)', () => {
    expect(fairShare(4, 2)).toBe(2)
    expect(fairShare(5, 2)).toBe(3)
    expect(fairShare(4, 1)).toBe(4)
    expect(fairShare(4, 0)).toBe(4)
    expect(fairShare(3, 4)).toBe(1)
  })

  it('two workers take two partitions each; when one dies the other takes its partitions', async () => {
    const store = memoryStore()
    const live = { n: 2 }
    const a = worker(store, 'a', live)
    const b = worker(store, 'b', live)
    await vi.waitFor(() => expect(a.held.size + b.held.size).toBe(4), { timeout: 5000 })
    expect(a.held.size).toBe(2)
    expect(b.held.size).toBe(2)
    // b dies: its renewals stop, the bucket forgets its keys, and its heartbeat goes stale.
    b.stop.abort()
    await b.leases.close().catch(() => undefined)
    store.expire('b')
    live.n = 1
    await vi.waitFor(() => expect(Object.values(store.owners())).toEqual(['a', 'a', 'a', 'a']), { timeout: 5000 })
    expect(a.held.size).toBe(4)
  })

  it('a worker holding more than its share hands partitions back, one at a time, to a worker that joined', async () => {
    const store = memoryStore()
    const live = { n: 1 }
    const a = worker(store, 'a', live)
    await vi.waitFor(() => expect(a.held.size).toBe(4), { timeout: 5000 })
    live.n = 2
    const b = worker(store, 'b', live)
    await vi.waitFor(() => expect([a.held.size, b.held.size]).toEqual([2, 2]), { timeout: 10_000 })
    const owners = Object.values(store.owners()).sort()
    expect(owners).toEqual(['a', 'a', 'b', 'b'])
  })

  it('a partition nobody takes (a worker counted alive that runs nothing) is taken beyond the share after a while', async () => {
    const store = memoryStore()
    const live = { n: 4 } // three phantom workers: the share is 1
    const a = worker(store, 'a', live, 300)
    await vi.waitFor(() => expect(a.held.size).toBe(4), { timeout: 5000 })
  })
})
