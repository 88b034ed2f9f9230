import { TributaryError } from '../errors.js'
import { sleep } from '../runtime/backoff.js'
import { validUntil } from './timing.js'
import type { Lease, LeaseRecord, LeaseStore, LeaseTiming, Leases } from './types.js'

export interface LeasesOptions {
  /** Who holds the leases (a worker id); written into each lease key. */
  owner: string
  timing: LeaseTiming
  /** A renewal or acquisition attempt failed for a reason other than "taken" (NATS down...). */
  onError?: (key: string, err: unknown) => void
  /** Clock (tests). */
  now?: () => number
}

/**
 * Leases over a LeaseStore. A held lease renews itself every `renewEveryMs` with
 * `update(key, value, revision)`; it is lost — `lost` aborts, renewals stop — when a renewal is
 * refused (the key expired or another owner took it) or when no renewal succeeded before
 * `validUntil(last sent)`, which is earlier than the server can expire the key. So an owner cut
 * off from NATS stops its work before anyone else may start it.
 */
export function createLeases(store: LeaseStore, opts: LeasesOptions): Leases {
  const { owner, timing } = opts
  const now = opts.now ?? Date.now
  const held = new Set<Lease>()
  const iso = (ms: number): string => new Date(ms).toISOString()

  const hold = (key: string, firstRevision: number, sentAt: number, acquiredAt: string): Lease => {
    const ac = new AbortController()
    let revision = firstRevision
    let deadline = validUntil(sentAt, timing)
    let released = false
    let renewTimer: ReturnType<typeof setTimeout> | undefined
    let deadlineTimer: ReturnType<typeof setTimeout> | undefined
    let renewing: Promise<void> | undefined

    const stopTimers = (): void => {
      clearTimeout(renewTimer)
      clearTimeout(deadlineTimer)
    }
    const lose = (why: string): void => {
      if (ac.signal.aborted) return
      stopTimers()
      held.delete(lease)
      ac.abort(new TributaryError('E_LEASE', `lease ${key} lost: ${why}`, { hint: 'another worker may run this work now; this one stopped it' }))
    }
    const armDeadline = (): void => {
      clearTimeout(deadlineTimer)
      deadlineTimer = setTimeout(() => lose(`no renewal succeeded within ${timing.ttlMs - timing.safetyMs} ms`), Math.max(0, deadline - now()))
      deadlineTimer.unref?.()
    }
    const schedule = (): void => {
      if (ac.signal.aborted || released) return
      renewTimer = setTimeout(() => {
        renewing = renew().finally(() => (renewing = undefined))
      }, timing.renewEveryMs)
      renewTimer.unref?.()
    }
    const renew = async (): Promise<void> => {
      const sent = now()
      try {
        const r = await store.update(key, JSON.stringify({ owner, acquiredAt, renewedAt: iso(sent) } satisfies LeaseRecord), revision)
        if (ac.signal.aborted) return
        if (r === undefined) return lose('the key expired or another owner took it')
        revision = r
        if (released) return
        deadline = validUntil(sent, timing)
        armDeadline()
      } catch (err) {
        // Transient (NATS unreachable, timeout): the next attempt may work; the deadline decides.
        opts.onError?.(key, err)
      }
      schedule()
    }

    const lease: Lease = {
      key,
      owner,
      lost: ac.signal,
      async release() {
        if (released) return
        released = true
        stopTimers()
        await renewing
        held.delete(lease)
        const wasHeld = !ac.signal.aborted
        ac.abort(new TributaryError('E_LEASE', `lease ${key} released`))
        // Best effort: if the delete fails, the bucket's max_age frees the key anyway.
        if (wasHeld) await store.delete(key, revision).catch((err: unknown) => opts.onError?.(key, err))
      },
    }
    held.add(lease)
    armDeadline()
    schedule()
    return lease
  }

  const tryAcquire = async (key: string): Promise<Lease | undefined> => {
    const sentAt = now()
    const acquiredAt = iso(sentAt)
    const rev = await store.create(key, JSON.stringify({ owner, acquiredAt, renewedAt: acquiredAt } satisfies LeaseRecord))
    return rev === undefined ? undefined : hold(key, rev, sentAt, acquiredAt)
  }

  return {
    owner,
    timing,
    tryAcquire,
    async acquire(key, signal) {
      while (!signal.aborted) {
        let lease: Lease | undefined
        try {
          lease = await tryAcquire(key)
        } catch (err) {
          opts.onError?.(key, err)
        }
        if (lease && signal.aborted) {
          await lease.release()
          return undefined
        }
        if (lease) return lease
        await sleep(timing.pollMs, signal)
      }
      return undefined
    },
    async holder(key) {
      const e = await store.get(key)
      return e ? parseLeaseRecord(e.value) : undefined
    },
    async holders(prefix) {
      const out = new Map<string, LeaseRecord>()
      for (const key of await store.keys(prefix)) {
        const e = await store.get(key)
        const r = e ? parseLeaseRecord(e.value) : undefined
        if (r) out.set(key, r)
      }
      return out
    },
    async close() {
      await Promise.all([...held].map((l) => l.release()))
    },
  }
}

/** A lease key's value, or undefined when it is not one (an unreadable value holds nothing). */
export function parseLeaseRecord(value: string): LeaseRecord | undefined {
  try {
    const r = JSON.parse(value) as Partial<LeaseRecord>
    return typeof r.owner === 'string' ? { owner: r.owner, acquiredAt: String(r.acquiredAt ?? ''), renewedAt: String(r.renewedAt ?? '') } : undefined
  } catch {
    return undefined
  }
}
