import type { StateStore } from '../plugin-api.js'

/**
 * Offsets for a push source (HTTP, core NATS, sockets): its input has no position of its own,
 * yet message ids are built from offsets, so an offset must never repeat — not even after a
 * restart, when the previous run's ids are still in the duplicate window and a repeat would be
 * dropped as a duplicate. The counter reserves blocks in the stage's KV state (one write per
 * block, not per record); a restart continues after the last reserved block, skipping the
 * unused rest of it. Offsets are unique and increasing, not dense.
 */
export interface OffsetCounter {
  /** Reserves `n` consecutive fresh offsets and returns the first. */
  take(n: number): Promise<number>
}

export interface OffsetCounterOptions {
  /** State key of the reserved limit (default `offsets`). */
  key?: string
  /** Offsets reserved per KV write (default 10000). */
  block?: number
}

export function createOffsetCounter(state: StateStore, opts: OffsetCounterOptions = {}): OffsetCounter {
  const key = opts.key ?? 'offsets'
  const block = Math.max(1, opts.block ?? 10_000)
  let next = 0
  let limit = 0
  let loaded = false
  // Calls run one after another: two concurrent reservations must not read the same limit.
  let chain: Promise<unknown> = Promise.resolve()

  const reserve = async (n: number): Promise<number> => {
    if (!loaded) {
      const saved = await state.get(key)
      next = limit = typeof saved === 'number' && saved > 0 ? saved : 1
      loaded = true
    }
    if (next + n > limit) {
      const newLimit = next + Math.max(block, n)
      // Written before any offset of the block is used: a crash after this skips, never repeats.
      await state.put(key, newLimit)
      limit = newLimit
    }
    const first = next
    next += n
    return first
  }

  return {
    take(n) {
      const p = chain.then(() => reserve(n))
      chain = p.catch(() => undefined)
      return p
    },
  }
}
