import type { Lease, Leases } from '../../lease/types.js'
import type { Logger } from '../../log/logger.js'
import { TributaryError, errorMessage } from '../../errors.js'
import { sleep } from '../../runtime/backoff.js'

export interface PartitionShareOptions {
  leases: Leases
  /** Key partitions of the pipeline in all (every partitioned stage's). */
  total: number
  /** Live workers that run the pipeline now, this one included (from the workers' heartbeats). */
  liveWorkers(): Promise<number>
  logger: Logger
  /** A free partition nobody took for this long is taken whatever the share (default 3 lease TTLs). */
  starvedAfterMs?: number
  now?: () => number
}

/** ceil(partitions / live workers): what one worker may hold while the others are alive. */
export function fairShare(total: number, liveWorkers: number): number {
  return Math.ceil(total / Math.max(1, liveWorkers))
}

/**
 * One worker's share of a pipeline's key partitions (docs/fleet.md). Each partition is a unit
 * under its own lease; a worker takes a free one only while it holds fewer than its fair share —
 * ceil(partitions / live workers running the pipeline) — so the partitions spread over the
 * workers. A dead worker drops out of the live count once its heartbeat is late, so the others'
 * share grows and they take its partitions as the leases expire. A worker holding more than its
 * share (it started first, or another one joined) hands one partition back at a time (it drains
 * and releases it) for the others to take. A partition left free for several TTLs is taken by
 * anyone, so a miscount never leaves one unowned.
 */
export class PartitionShare {
  private readonly held = new Map<string, AbortController>()
  private readonly freeSince = new Map<string, number>()
  private lock: Promise<unknown> = Promise.resolve()
  private readonly now: () => number
  private readonly starvedAfterMs: number

  constructor(private readonly o: PartitionShareOptions) {
    this.now = o.now ?? Date.now
    this.starvedAfterMs = o.starvedAfterMs ?? 3 * o.leases.timing.ttlMs
  }

  get holding(): number {
    return this.held.size
  }

  /** Waits until this worker holds `key` within its share; undefined once `signal` aborts. */
  async acquire(key: string, signal: AbortSignal): Promise<Lease | undefined> {
    while (!signal.aborted) {
      // One decision at a time: two partitions must not both see room for one.
      const turn = this.lock.then(() => this.tryTake(key))
      this.lock = turn.catch(() => undefined)
      const lease = await turn.catch((err: unknown) => {
        this.o.logger.warn({ lease: key, err: errorMessage(err) }, 'partition lease attempt failed; retrying')
        return undefined
      })
      if (lease && signal.aborted) {
        await lease.release()
        return undefined
      }
      if (lease) return lease
      await sleep(this.o.leases.timing.pollMs, signal)
    }
    return undefined
  }

  private async tryTake(key: string): Promise<Lease | undefined> {
    if (this.held.has(key)) return undefined
    const share = fairShare(this.o.total, await this.o.liveWorkers())
    if (this.held.size >= share) {
      if (await this.o.leases.holder(key)) {
        this.freeSince.delete(key)
        return undefined
      }
      const since = this.freeSince.get(key) ?? this.now()
      this.freeSince.set(key, since)
      if (this.now() - since < this.starvedAfterMs) return undefined
      this.o.logger.info({ lease: key, share }, 'partition free for long: taking it beyond this worker\'s share')
    }
    const lease = await this.o.leases.tryAcquire(key)
    if (!lease) return undefined
    this.freeSince.delete(key)
    const handBack = new AbortController()
    this.held.set(key, handBack)
    return {
      key,
      owner: lease.owner,
      lost: AbortSignal.any([lease.lost, handBack.signal]),
      release: async () => {
        this.held.delete(key)
        await lease.release()
      },
    }
  }

  /**
   * Until `signal` aborts: when this worker holds more than its share at two checks in a row, it
   * hands one partition back (the last taken): the unit drains it and releases the lease.
   */
  async balance(signal: AbortSignal, everyMs = 2 * this.o.leases.timing.pollMs): Promise<void> {
    let over = 0
    while (!signal.aborted) {
      await sleep(everyMs, signal)
      if (signal.aborted) break
      const live = await this.o.liveWorkers().catch(() => undefined)
      if (live === undefined) continue
      const share = fairShare(this.o.total, live)
      over = this.held.size > share ? over + 1 : 0
      if (over < 2) continue
      over = 0
      const [key, handBack] = [...this.held].at(-1)!
      this.o.logger.info({ lease: key, holding: this.held.size, share, liveWorkers: live }, 'holding more partitions than this worker\'s share: handing one back')
      handBack.abort(new TributaryError('E_LEASE', `lease ${key} handed back: this worker held ${this.held.size} partitions, its share is ${share}`))
    }
  }
}
