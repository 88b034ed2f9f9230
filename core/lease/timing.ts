import type { LeaseTiming } from './types.js'

/** Renewal, safety margin and polling derived from the TTL (a bucket's max_age), overridable. */
export function leaseTiming(ttlMs: number, over: Partial<Omit<LeaseTiming, 'ttlMs'>> = {}): LeaseTiming {
  if (!(ttlMs > 0)) throw new RangeError(`lease TTL must be positive (got ${ttlMs})`)
  const t: LeaseTiming = {
    ttlMs,
    renewEveryMs: over.renewEveryMs ?? Math.max(1, Math.floor(ttlMs / 3)),
    safetyMs: over.safetyMs ?? Math.max(1, Math.floor(ttlMs / 6)),
    pollMs: over.pollMs ?? Math.max(1, Math.floor(ttlMs / 4)),
  }
  // Two renewals must fit before the holder gives up, or one slow round trip loses the lease.
  if (t.renewEveryMs * 2 > ttlMs - t.safetyMs) throw new RangeError(`lease renewal every ${t.renewEveryMs} ms does not fit twice in a TTL of ${ttlMs} ms minus a margin of ${t.safetyMs} ms`)
  return t
}

/**
 * Until when a holder may act on a lease whose renewal (or creation) was sent at `sentAt`: the
 * server stamps the write after it was sent, so the key lives at least until sentAt + ttl, and the
 * holder stops `safetyMs` earlier.
 */
export function validUntil(sentAt: number, t: LeaseTiming): number {
  return sentAt + t.ttlMs - t.safetyMs
}
