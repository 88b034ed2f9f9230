import type { JsonObject, JsonValue } from '../../core/plugin-api.js'

/**
 * Two streams joined by key within a time interval, pure and deterministic (an interval join):
 * a left record at tL and a right record at tR with the same key match when |tL - tR| <= within.
 * Each record is matched against the buffered records of the other side, then buffered itself.
 *
 * Watermark W = largest time seen - lateness. A record with t <= W - within is late (partners it
 * could have had may be gone). Buffered records are dropped once t <= W - 2·within: no record
 * that is not late can match them any more — and then, for a left join, a left record that never
 * matched is emitted alone.
 */
export interface IntervalOptions {
  withinMs: number
  latenessMs: number
  type: 'inner' | 'left'
}

export type Side = 'left' | 'right'

interface Buffered {
  side: Side
  key: string
  t: number
  rec: JsonObject
  /** Input sequence of the record: names an unmatched left record's output whenever it is emitted. */
  seq: number
  matched: boolean
}

export interface Unmatched {
  rec: JsonObject
  seq: number
}

export type JoinResult = { late: true } | { late: false; matches: [JsonObject, JsonObject][]; unmatched: Unmatched[] }

export class IntervalJoin {
  private wm = -Infinity
  private maxTime = -Infinity
  /** Every buffered record in arrival order (expiry scans from the front), and per side and key. */
  private fifo: Buffered[] = []
  private bySide = { left: new Map<string, Buffered[]>(), right: new Map<string, Buffered[]>() }

  constructor(private readonly o: IntervalOptions) {
    if (!(o.withinMs >= 0)) throw new Error('`within` must be a duration')
  }

  get watermark(): number {
    return this.wm
  }

  get buffered(): number {
    return this.fifo.length
  }

  add(side: Side, key: string, rec: JsonObject, t: number, seq: number): JoinResult {
    const w = this.o.withinMs
    if (t <= this.wm - w) return { late: true }
    const other = this.bySide[side === 'left' ? 'right' : 'left'].get(key) ?? []
    const matches: [JsonObject, JsonObject][] = []
    const me: Buffered = { side, key, t, rec, seq, matched: false }
    for (const b of other) {
      if (Math.abs(b.t - t) > w) continue
      matches.push(side === 'left' ? [rec, b.rec] : [b.rec, rec])
      b.matched = true
      me.matched = true
    }
    this.fifo.push(me)
    const list = this.bySide[side].get(key)
    if (list) list.push(me)
    else this.bySide[side].set(key, [me])
    if (t > this.maxTime) this.maxTime = t
    return { late: false, matches, unmatched: this.advance(this.maxTime - this.o.latenessMs) }
  }

  /** Moves the watermark (processing time: the runtime's tick); returns left records that will never match (left join). */
  advance(w: number): Unmatched[] {
    if (!(w > this.wm)) return []
    this.wm = w
    return this.expire(w - 2 * this.o.withinMs)
  }

  /** End of a finite input: every unmatched left record (left join); the buffers are emptied. */
  flush(): Unmatched[] {
    return this.expire(Infinity)
  }

  private expire(upTo: number): Unmatched[] {
    const out: Unmatched[] = []
    let n = 0
    while (n < this.fifo.length && this.fifo[n]!.t <= upTo) {
      const b = this.fifo[n++]!
      const map = this.bySide[b.side]
      const list = map.get(b.key)!
      list.splice(list.indexOf(b), 1)
      if (list.length === 0) map.delete(b.key)
      if (b.side === 'left' && !b.matched && this.o.type === 'left') out.push({ rec: b.rec, seq: b.seq })
    }
    if (n) this.fifo.splice(0, n)
    return out
  }

  snapshot(): JsonValue {
    return {
      wm: Number.isFinite(this.wm) ? this.wm : null,
      max: Number.isFinite(this.maxTime) ? this.maxTime : null,
      buffered: this.fifo.map((b) => [b.side, b.key, b.t, b.rec, b.seq, b.matched]),
    }
  }

  restore(j: JsonValue): void {
    const o = (j ?? {}) as { wm?: number | null; max?: number | null; buffered?: [Side, string, number, JsonObject, number, boolean][] }
    this.wm = o.wm ?? -Infinity
    this.maxTime = o.max ?? -Infinity
    this.fifo = []
    this.bySide = { left: new Map(), right: new Map() }
    for (const [side, key, t, rec, seq, matched] of o.buffered ?? []) {
      const b: Buffered = { side, key, t, rec, seq, matched }
      this.fifo.push(b)
      const list = this.bySide[side].get(key)
      if (list) list.push(b)
      else this.bySide[side].set(key, [b])
    }
  }
}
