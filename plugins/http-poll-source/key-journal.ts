import type { JsonValue } from '../../core/plugin-api.js'

/** As saved in KV: `[key, offset, 1 when not yet known to be in JetStream]`. */
export type JournalEntry = [string, number, 0 | 1]

interface Entry {
  offset: number
  /** Emitted, not yet acknowledged by JetStream. */
  pending: boolean
  /** Pending in a previous run: if the record comes again, it gets its old offset back. */
  replay: boolean
}

/**
 * Which record keys this source has emitted, at which offset, and whether JetStream has them
 * yet. Saved in KV before each batch is handed over, so after a crash:
 * - a record emitted but perhaps not stored gets its old offset back when the API returns it
 *   again (the stream's duplicate window drops it if it was stored after all);
 * - with `dedupe`, a stored record is skipped; the latest `window` keys are remembered.
 * Without `dedupe` only in-flight keys are kept: every response's records are emitted anew.
 */
export class KeyJournal {
  private readonly entries = new Map<string, Entry>()
  private dirty = false

  constructor(
    saved: JsonValue | undefined,
    private readonly window: number,
    private readonly dedupe: boolean,
  ) {
    for (const e of parseEntries(saved)) {
      const pending = e[2] === 1
      if (pending || dedupe) this.entries.set(e[0], { offset: e[1], pending, replay: pending })
    }
  }

  /** The offset to emit a record under, or undefined when it was seen already (skip it). */
  admit(key: string, fresh: () => number): number | undefined {
    const e = this.entries.get(key)
    if (e?.replay) {
      e.replay = false
      this.touch(key, e)
      return e.offset
    }
    if (e && this.dedupe) return undefined
    const entry: Entry = { offset: fresh(), pending: true, replay: false }
    this.touch(key, entry)
    return entry.offset
  }

  /** JetStream acknowledged the records emitted under these keys and offsets. */
  confirm(emitted: readonly (readonly [string, number])[]): void {
    for (const [key, offset] of emitted) {
      const e = this.entries.get(key)
      if (!e || e.offset !== offset || !e.pending) continue
      this.dirty = true
      if (this.dedupe) e.pending = false
      else this.entries.delete(key)
    }
  }

  /** Forgets the oldest keys beyond the window; keys still in flight are never forgotten. */
  trim(): void {
    for (const [key, e] of this.entries) {
      if (this.entries.size <= this.window) break
      if (e.pending && !e.replay) break
      this.entries.delete(key)
      this.dirty = true
    }
  }

  /** Whether something changed since the last `save()`. */
  get changed(): boolean {
    return this.dirty
  }

  save(): JournalEntry[] {
    this.dirty = false
    const out: JournalEntry[] = []
    for (const [key, e] of this.entries) out.push([key, e.offset, e.pending ? 1 : 0])
    return out
  }

  private touch(key: string, e: Entry): void {
    // Re-inserted so the map's order is recency: trim() forgets from the front.
    this.entries.delete(key)
    this.entries.set(key, e)
    this.dirty = true
  }
}

function parseEntries(saved: JsonValue | undefined): JournalEntry[] {
  if (!Array.isArray(saved)) return []
  return saved.filter((e): e is JournalEntry => Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'number' && (e[2] === 0 || e[2] === 1))
}
