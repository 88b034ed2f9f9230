import type { Entry } from './entry.js'

/**
 * The most recent entries of a channel, oldest first, in a fixed array: a client resuming within
 * them is served from memory. Sequences increase; they are contiguous unless the history lost
 * records before they were read.
 */
export class Ring {
  private readonly slots: (Entry | undefined)[]
  private start = 0
  private count = 0

  constructor(readonly capacity: number) {
    this.slots = new Array<Entry | undefined>(capacity)
  }

  get size(): number {
    return this.count
  }

  /** Sequence of the oldest entry held (undefined when empty). */
  get first(): number | undefined {
    return this.count === 0 ? undefined : this.slots[this.start]!.seq
  }

  push(e: Entry): void {
    if (this.capacity === 0) return
    if (this.count === this.capacity) {
      this.slots[this.start] = e
      this.start = (this.start + 1) % this.capacity
    } else {
      this.slots[(this.start + this.count) % this.capacity] = e
      this.count++
    }
  }

  private at(i: number): Entry {
    return this.slots[(this.start + i) % this.capacity]!
  }

  /** The entries with a sequence above `seq`, oldest first. */
  after(seq: number): Entry[] {
    // Binary search for the first entry above seq.
    let lo = 0
    let hi = this.count
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.at(mid).seq <= seq) lo = mid + 1
      else hi = mid
    }
    const out: Entry[] = []
    for (let i = lo; i < this.count; i++) out.push(this.at(i))
    return out
  }
}
