import type { JsonValue } from '../../core/plugin-api.js'

/**
 * The keys a dedupe stage remembers, pure. Kept in a Map in order of (last) sighting, so both
 * horizons evict from the front: the count horizon the least recently seen key, the time
 * horizon keys first seen more than `withinMs` before the largest time seen.
 */
export class DedupeMemory {
  private keys = new Map<string, number>()
  private maxTime = -Infinity

  constructor(private readonly h: { withinMs?: number; last?: number }) {}

  get size(): number {
    return this.keys.size
  }

  /** True when `key` is remembered (a duplicate); otherwise remembers it at `time`. */
  seen(key: string, time: number): boolean {
    if (time > this.maxTime) this.maxTime = time
    const first = this.keys.get(key)
    const w = this.h.withinMs
    const dup = first !== undefined && (w === undefined || Math.abs(time - first) < w)
    if (dup && this.h.last !== undefined) {
      // A sighting refreshes the key's place in the count horizon, not its time.
      this.keys.delete(key)
      this.keys.set(key, first!)
    }
    if (!dup) {
      this.keys.delete(key)
      this.keys.set(key, time)
    }
    this.evict()
    return dup
  }

  private evict(): void {
    const { withinMs, last } = this.h
    if (last !== undefined) {
      while (this.keys.size > last) this.keys.delete(this.keys.keys().next().value!)
    }
    if (withinMs !== undefined && last === undefined) {
      const horizon = this.maxTime - withinMs
      for (const [k, t] of this.keys) {
        if (t > horizon) break
        this.keys.delete(k)
      }
    }
  }

  toJSON(): JsonValue {
    return { max: Number.isFinite(this.maxTime) ? this.maxTime : null, keys: [...this.keys] }
  }

  load(j: JsonValue): void {
    const o = (j ?? {}) as { max?: number | null; keys?: [string, number][] }
    this.maxTime = o.max ?? -Infinity
    this.keys = new Map(o.keys ?? [])
  }
}
