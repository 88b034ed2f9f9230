import type { JsonValue } from '../../core/plugin-api.js'
import type { Acc, Aggregator } from './aggregates.js'
import { MinHeap } from './heap.js'

/**
 * Windows over a time axis (event time, or the stage's processing time), pure and deterministic:
 * the same records in the same order give the same windows, which is what lets a restart replay
 * inputs into a restored state and emit exactly what the first run would have.
 *
 * Watermark: the largest time seen minus the allowed lateness (`W = max(t) - lateness`). A window
 * `[start, end)` closes, and is emitted, once `W >= end`. A record whose windows have all closed
 * (`end <= W` for each) is late. Hopping windows: a record counts in those of its windows still
 * open. Session windows span `[first event, last event + gap)`; a record within `gap` of an open
 * session joins it (bridging two sessions merges them); a record that joins no open session and
 * whose own session `[t, t + gap)` would already be closed is late.
 */
export interface WindowSpec {
  kind: 'tumbling' | 'hopping' | 'session'
  /** Window length (tumbling, hopping). */
  sizeMs: number
  /** Distance between window starts (hopping; equals sizeMs for tumbling). */
  everyMs: number
  /** Inactivity that ends a session (session). */
  gapMs: number
  latenessMs: number
}

export interface ClosedWindow {
  start: number
  end: number
  /** JSON of the group's values: identifies the group. */
  key: string
  group: JsonValue[]
  acc: Acc
}

export type AddResult = { late: true } | { late: false; closed: ClosedWindow[] }

interface Cell {
  group: JsonValue[]
  acc: Acc
}

interface Session {
  start: number
  end: number
  group: JsonValue[]
  acc: Acc
}

type HeapEntry = [end: number, start: number, key: string]

export class WindowEngine {
  private wm = -Infinity
  private maxTime = -Infinity
  /** Tumbling and hopping: open windows by start; `starts` ascending (ends too: equal sizes). */
  private panes = new Map<number, Map<string, Cell>>()
  private starts: number[] = []
  /** Session: open sessions per group, ascending by start, and their ends in a heap. */
  private sessions = new Map<string, Session[]>()
  private readonly ends = new MinHeap<HeapEntry>((a, b) => a[0] < b[0] || (a[0] === b[0] && (a[1] < b[1] || (a[1] === b[1] && a[2] < b[2]))))

  constructor(
    readonly spec: WindowSpec,
    private readonly agg: Aggregator,
  ) {
    if (spec.kind === 'session' ? !(spec.gapMs > 0) : !(spec.sizeMs > 0 && spec.everyMs > 0)) throw new Error('window sizes must be positive durations')
  }

  get watermark(): number {
    return this.wm
  }

  /** Open windows (group cells or sessions): for logs and tests. */
  get open(): number {
    let n = 0
    for (const p of this.panes.values()) n += p.size
    for (const l of this.sessions.values()) n += l.length
    return n
  }

  /** Adds a record at `time` with its aggregate values (already read and checked). */
  add(key: string, group: JsonValue[], values: (JsonValue | undefined)[], time: number): AddResult {
    const took = this.spec.kind === 'session' ? this.addSession(key, group, values, time) : this.addPanes(key, group, values, time)
    if (!took) return { late: true }
    return { late: false, closed: this.observe(time) }
  }

  /** Moves the watermark to `w` (processing time: the runtime's tick) and closes what ends by it. */
  advance(w: number): ClosedWindow[] {
    if (!(w > this.wm)) return []
    this.wm = w
    return this.closeUpTo(w)
  }

  /** Closes every open window (end of a finite input); the watermark stays where it is. */
  flush(): ClosedWindow[] {
    return this.closeUpTo(Infinity)
  }

  private observe(time: number): ClosedWindow[] {
    if (time > this.maxTime) this.maxTime = time
    return this.advance(this.maxTime - this.spec.latenessMs)
  }

  private addPanes(key: string, group: JsonValue[], values: (JsonValue | undefined)[], t: number): boolean {
    const { sizeMs: size, everyMs: every } = this.spec
    // A record between two hopping windows (size < every) has none: it counts nowhere, yet is not late.
    let took = Math.floor(t / every) * every <= t - size
    for (let s = Math.floor(t / every) * every; s > t - size; s -= every) {
      if (s + size <= this.wm) continue
      took = true
      let pane = this.panes.get(s)
      if (!pane) {
        pane = new Map()
        this.panes.set(s, pane)
        this.insertStart(s)
      }
      let cell = pane.get(key)
      if (!cell) {
        cell = { group, acc: this.agg.init() }
        pane.set(key, cell)
      }
      this.agg.add(cell.acc, values, t)
    }
    return took
  }

  private insertStart(s: number): void {
    const a = this.starts
    if (a.length === 0 || a[a.length - 1]! < s) {
      a.push(s)
      return
    }
    let lo = 0
    let hi = a.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (a[mid]! < s) lo = mid + 1
      else hi = mid
    }
    a.splice(lo, 0, s)
  }

  private addSession(key: string, group: JsonValue[], values: (JsonValue | undefined)[], t: number): boolean {
    const gap = this.spec.gapMs
    const list = this.sessions.get(key) ?? []
    const touching = list.filter((s) => t < s.end && s.start < t + gap)
    if (touching.length === 0 && t + gap <= this.wm) return false
    let merged: Session
    if (touching.length === 0) merged = { start: t, end: t + gap, group, acc: this.agg.init() }
    else {
      merged = touching[0]!
      for (const s of touching.slice(1)) {
        this.agg.merge(merged.acc, s.acc)
        merged.end = Math.max(merged.end, s.end)
      }
      merged.start = Math.min(merged.start, t)
      merged.end = Math.max(merged.end, t + gap)
    }
    this.agg.add(merged.acc, values, t)
    const rest = list.filter((s) => !touching.includes(s))
    rest.push(merged)
    rest.sort((a, b) => a.start - b.start)
    this.sessions.set(key, rest)
    // Entries of merged-away or extended sessions stay in the heap and are skipped when popped.
    this.ends.push([merged.end, merged.start, key])
    return true
  }

  private closeUpTo(w: number): ClosedWindow[] {
    const closed: ClosedWindow[] = []
    if (this.spec.kind !== 'session') {
      const size = this.spec.sizeMs
      let n = 0
      while (n < this.starts.length && this.starts[n]! + size <= w) {
        const s = this.starts[n++]!
        for (const [key, cell] of this.panes.get(s)!) closed.push({ start: s, end: s + size, key, group: cell.group, acc: cell.acc })
        this.panes.delete(s)
      }
      if (n) this.starts.splice(0, n)
      return closed
    }
    for (let top = this.ends.peek(); top && top[0] <= w; top = this.ends.peek()) {
      this.ends.pop()
      const [end, start, key] = top
      const list = this.sessions.get(key)
      const i = list ? list.findIndex((s) => s.start === start && s.end === end) : -1
      if (i < 0) continue
      const s = list!.splice(i, 1)[0]!
      if (list!.length === 0) this.sessions.delete(key)
      closed.push({ start: s.start, end: s.end, key, group: s.group, acc: s.acc })
    }
    return closed
  }

  snapshot(): JsonValue {
    const num = (x: number): number | null => (Number.isFinite(x) ? x : null)
    if (this.spec.kind !== 'session') {
      const panes: JsonValue[] = []
      for (const s of this.starts) {
        const cells: JsonValue[] = []
        for (const [key, c] of this.panes.get(s)!) cells.push([key, c.group, this.agg.toJSON(c.acc)])
        panes.push([s, cells])
      }
      return { wm: num(this.wm), max: num(this.maxTime), panes }
    }
    const sessions: JsonValue[] = []
    for (const [key, list] of this.sessions) sessions.push([key, list.map((s) => [s.start, s.end, s.group, this.agg.toJSON(s.acc)])])
    return { wm: num(this.wm), max: num(this.maxTime), sessions }
  }

  restore(j: JsonValue): void {
    const o = j as { wm: number | null; max: number | null; panes?: [number, [string, JsonValue[], JsonValue][]][]; sessions?: [string, [number, number, JsonValue[], JsonValue][]][] }
    this.wm = o.wm ?? -Infinity
    this.maxTime = o.max ?? -Infinity
    this.panes = new Map()
    this.starts = []
    this.sessions = new Map()
    this.ends.clear()
    for (const [s, cells] of o.panes ?? []) {
      this.panes.set(s, new Map(cells.map(([key, group, acc]) => [key, { group, acc: this.agg.fromJSON(acc) }])))
      this.starts.push(s)
    }
    for (const [key, list] of o.sessions ?? []) {
      this.sessions.set(key, list.map(([start, end, group, acc]) => ({ start, end, group, acc: this.agg.fromJSON(acc) })))
      for (const [start, end] of list) this.ends.push([end, start, key])
    }
  }
}
