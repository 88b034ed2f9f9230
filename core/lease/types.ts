/**
 * Leases: one owner at a time for a piece of work (a source that must not run twice, a stateful
 * stage), held in a KV bucket whose `max_age` is the lease TTL (FACTS: per-key TTL is ignored on
 * nats-server 2.9). `create` acquires, `update(key, value, revision)` renews, and an owner that
 * stops renewing loses the key when the bucket's max_age deletes it.
 */

/** What a lease key holds (JSON). */
export interface LeaseRecord {
  owner: string
  /** ISO time of the acquisition. */
  acquiredAt: string
  /** ISO time of the last renewal (= acquiredAt before the first). */
  renewedAt: string
}

/**
 * The few compare-and-set operations a lease needs of a KV bucket. `undefined` means "someone
 * else got there first" (the key exists, or the revision is stale); anything else that goes wrong
 * throws. A small interface so the lease logic is unit-tested without a server.
 */
export interface LeaseStore {
  /** Writes the key only if it has no live value; its revision, or undefined when taken. */
  create(key: string, value: string): Promise<number | undefined>
  /** Writes the key only if its last revision is `revision`; the new revision, or undefined when stale or expired. */
  update(key: string, value: string, revision: number): Promise<number | undefined>
  get(key: string): Promise<{ value: string; revision: number } | undefined>
  /** Deletes the key only if its last revision is still `revision`. */
  delete(key: string, revision: number): Promise<void>
  /** Live keys under `prefix` (`a.` → `a.>`), or every key. */
  keys(prefix?: string): Promise<string[]>
}

/** A lease this process holds. */
export interface Lease {
  readonly key: string
  readonly owner: string
  /** Aborted when the lease is lost: renewal refused (taken over) or impossible until the deadline. */
  readonly lost: AbortSignal
  /** Stops renewing and deletes the key if it is still ours. Idempotent. */
  release(): Promise<void>
}

export interface LeaseTiming {
  ttlMs: number
  /** Renew this often (default ttl / 3). */
  renewEveryMs: number
  /**
   * A lease counts as lost when no renewal sent within the last `ttl - safetyMs` succeeded: it
   * stops before the server can expire the key and hand it to another owner (default ttl / 6).
   */
  safetyMs: number
  /** A waiting `acquire` tries again this often (default ttl / 4). */
  pollMs: number
}

export interface Leases {
  readonly owner: string
  readonly timing: LeaseTiming
  /** The lease if it is free now, else undefined. */
  tryAcquire(key: string): Promise<Lease | undefined>
  /** Waits (polling: an expiry leaves no tombstone to watch) until the lease is ours, or undefined once `signal` aborts. */
  acquire(key: string, signal: AbortSignal): Promise<Lease | undefined>
  /** Who holds `key` now. */
  holder(key: string): Promise<LeaseRecord | undefined>
  /** Every live lease under `prefix`. */
  holders(prefix?: string): Promise<Map<string, LeaseRecord>>
  /** Releases every lease this object handed out. */
  close(): Promise<void>
}
