import { describe, expect, it } from 'vitest'
import type { JsonObject } from '../../core/plugin-api.js'
import { Aggregator, parseAggregates } from '../../plugins/window/aggregates.js'
import { WindowEngine, type ClosedWindow, type WindowSpec } from '../../plugins/window/engine.js'

const tumbling = (every: number, lateness = 0): WindowSpec => ({ kind: 'tumbling', sizeMs: every, everyMs: every, gapMs: 0, latenessMs: lateness })
const hopping = (size: number, every: number, lateness = 0): WindowSpec => ({ kind: 'hopping', sizeMs: size, everyMs: every, gapMs: 0, latenessMs: lateness })
const session = (gap: number, lateness = 0): WindowSpec => ({ kind: 'session', sizeMs: 0, everyMs: 0, gapMs: gap, latenessMs: lateness })

/** A small driver: records are [key, time, value]; returns what closed (as plain rows) or 'late'. */
function driver(spec: WindowSpec, aggs: Record<string, string> = { n: 'count()', total: 'sum(v)' }) {
  const agg = new Aggregator(parseAggregates(aggs))
  const engine = new WindowEngine(spec, agg)
  const row = (w: ClosedWindow): JsonObject => {
    const out: JsonObject = { key: JSON.parse(w.key)[0], start: w.start, end: w.end }
    agg.result(w.acc, out)
    return out
  }
  return {
    engine,
    add(key: string, t: number, v = 1): JsonObject[] | 'late' {
      const read = agg.read({ v })
      if ('error' in read) throw new Error(read.error)
      const r = engine.add(JSON.stringify([key]), [key], read.values, t)
      return r.late ? 'late' : r.closed.map(row)
    },
    advance: (w: number) => engine.advance(w).map(row),
    flush: () => engine.flush().map(row),
  }
}

describe('tumbling windows', () => {
  it('closes [0,10) when the watermark reaches 10, not before; a record at 10 opens [10,20)', () => {
    const d = driver(tumbling(10))
    expect(d.add('a', 0)).toEqual([])
    expect(d.add('a', 9, 2)).toEqual([])
    expect(d.add('b', 5, 4)).toEqual([])
    expect(d.add('a', 10, 8)).toEqual([
      { key: 'a', start: 0, end: 10, n: 2, total: 3 },
      { key: 'b', start: 0, end: 10, n: 1, total: 4 },
    ])
    expect(d.flush()).toEqual([{ key: 'a', start: 10, end: 20, n: 1, total: 8 }])
  })

  it('without lateness, a record for a closed window is late; one at the watermark is not', () => {
    const d = driver(tumbling(10))
    d.add('a', 12)
    expect(d.engine.watermark).toBe(12)
    expect(d.add('a', 9)).toBe('late') // [0,10) closed: 10 <= 12
    expect(d.add('a', 10)).toEqual([]) // [10,20) open
    expect(d.add('a', 12)).toEqual([])
    expect(d.flush()).toEqual([{ key: 'a', start: 10, end: 20, n: 3, total: 3 }])
  })

  it('allowed lateness keeps a window open until max time - lateness reaches its end (edge: exactly equal closes it)', () => {
    const d = driver(tumbling(10, 5))
    expect(d.add('a', 1)).toEqual([])
    expect(d.add('a', 14)).toEqual([]) // W = 9: [0,10) still open
    expect(d.add('a', 9)).toEqual([]) // out of order, within lateness: counts
    expect(d.add('a', 15)).toEqual([{ key: 'a', start: 0, end: 10, n: 2, total: 2 }]) // W = 10 closes [0,10)
    expect(d.add('a', 9)).toBe('late')
    expect(d.add('a', 6)).toBe('late')
    expect(d.add('a', 10)).toEqual([])
    expect(d.flush()).toEqual([{ key: 'a', start: 10, end: 20, n: 3, total: 3 }])
  })

  it('the watermark never goes back: an old record does not reopen anything', () => {
    const d = driver(tumbling(10, 3))
    d.add('a', 30)
    expect(d.engine.watermark).toBe(27)
    d.add('a', 28)
    expect(d.engine.watermark).toBe(27)
    expect(d.add('a', 19)).toBe('late') // [10,20) ends 20 <= 27
    expect(d.add('a', 20)).toEqual([]) // [20,30) ends 30 > 27
  })

  it('closes several windows at once in order of their end, groups in arrival order; negative times align too', () => {
    const d = driver(tumbling(10, 30))
    d.add('x', -5)
    d.add('y', 3)
    d.add('x', 4)
    d.add('z', 17)
    const closed = d.add('x', 75) // W = 45
    expect(closed).toEqual([
      { key: 'x', start: -10, end: 0, n: 1, total: 1 },
      { key: 'y', start: 0, end: 10, n: 1, total: 1 },
      { key: 'x', start: 0, end: 10, n: 1, total: 1 },
      { key: 'z', start: 10, end: 20, n: 1, total: 1 },
    ])
  })

  it('advance() closes what the processing-time watermark passed; a lower one does nothing', () => {
    const d = driver(tumbling(10))
    d.add('a', 3)
    d.add('a', 13)
    expect(d.advance(9)).toEqual([])
    expect(d.advance(20)).toEqual([{ key: 'a', start: 10, end: 20, n: 1, total: 1 }])
    expect(d.engine.watermark).toBe(20)
    expect(d.advance(15)).toEqual([])
  })
})

describe('hopping windows', () => {
  it('counts a record in every window that contains it (size 10, every 5)', () => {
    const d = driver(hopping(10, 5, 10))
    d.add('a', 7)
    d.add('a', 12)
    expect(d.flush()).toEqual([
      { key: 'a', start: 0, end: 10, n: 1, total: 1 },
      { key: 'a', start: 5, end: 15, n: 2, total: 2 },
      { key: 'a', start: 10, end: 20, n: 1, total: 1 },
    ])
  })

  it('a partly late record counts only in its open windows; wholly late is late', () => {
    const d = driver(hopping(10, 5))
    d.add('a', 7) // [0,10), [5,15)
    expect(d.add('a', 10)).toEqual([{ key: 'a', start: 0, end: 10, n: 1, total: 1 }]) // W = 10
    expect(d.add('a', 8)).toEqual([]) // [0,10) closed, [5,15) open
    expect(d.add('a', 3)).toBe('late') // [-5,5) and [0,10) both closed
    expect(d.flush()).toEqual([
      { key: 'a', start: 5, end: 15, n: 3, total: 3 },
      { key: 'a', start: 10, end: 20, n: 1, total: 1 },
    ])
  })

  it('gaps between windows (size < every): a record between them counts nowhere and is not late', () => {
    const d = driver(hopping(5, 10, 10))
    expect(d.add('a', 7)).toEqual([]) // no window holds 5..9
    expect(d.add('a', 2)).toEqual([])
    expect(d.add('a', 27)).toEqual([{ key: 'a', start: 0, end: 5, n: 1, total: 1 }])
    expect(d.add('a', 1)).toBe('late')
  })
})

describe('session windows', () => {
  it('a session spans [first, last + gap) and closes when the watermark passes its end', () => {
    const d = driver(session(10))
    d.add('u', 0)
    d.add('u', 5)
    d.add('v', 6)
    expect(d.add('u', 14)).toEqual([]) // extends u to [0,24); W = 14 < 16 (v's end)
    expect(d.add('u', 30)).toEqual([
      { key: 'v', start: 6, end: 16, n: 1, total: 1 },
      { key: 'u', start: 0, end: 24, n: 3, total: 3 },
    ])
    expect(d.flush()).toEqual([{ key: 'u', start: 30, end: 40, n: 1, total: 1 }])
  })

  it('a record bridging two sessions merges them', () => {
    const d = driver(session(10, 20), { n: 'count()', first: 'first(v)', last: 'last(v)' })
    d.add('u', 0, 100)
    d.add('u', 15, 115)
    d.add('u', 8, 108) // touches [0,10) and [15,25): one session [0,25)
    expect(d.flush()).toEqual([{ key: 'u', start: 0, end: 25, n: 3, first: 100, last: 115 }])
  })

  it('late only when it joins no open session and its own session would be closed already', () => {
    const d = driver(session(10, 0))
    d.add('u', 100)
    d.add('w', 125) // W = 125 closes nothing of u? u ends 110 <= 125: closed
    expect(d.add('u', 112)).toBe('late') // own session [112,122) ends <= 125
    expect(d.add('u', 116)).toEqual([]) // [116,126) ends after W: a new session
    expect(d.add('w', 120)).toEqual([]) // joins w's open session [125,135)
    expect(d.flush()).toEqual([
      { key: 'u', start: 116, end: 126, n: 1, total: 1 },
      { key: 'w', start: 120, end: 135, n: 2, total: 2 },
    ])
  })

  it('allowed lateness delays session closing', () => {
    const d = driver(session(10, 20))
    d.add('u', 0)
    expect(d.add('u', 29)).toEqual([]) // W = 9 < 10
    expect(d.add('u', 30)).toEqual([{ key: 'u', start: 0, end: 10, n: 1, total: 1 }]) // W = 10
  })
})

describe('aggregates', () => {
  it('count, count(f), sum, min, max, avg, distinct, first, last; nulls and missing skipped', () => {
    const agg = new Aggregator(parseAggregates({ n: 'count()', has: 'count(v)', s: 'sum(v)', lo: 'min(v)', hi: 'max(v)', mean: 'avg(v)', users: 'distinct(u)', entry: 'first(p)', exit: 'last(p)' }))
    const acc = agg.init()
    const rows: [JsonObject, number][] = [
      [{ v: 3, u: 'a', p: '/home' }, 10],
      [{ v: null, u: 'b', p: '/cart' }, 30],
      [{ u: 'a', p: '/late-but-earliest' }, 5],
      [{ v: -2, u: 1, p: '/pay' }, 30],
    ]
    for (const [r, t] of rows) {
      const read = agg.read(r)
      if ('error' in read) throw new Error(read.error)
      agg.add(acc, read.values, t)
    }
    const out: JsonObject = {}
    agg.result(acc, out)
    expect(out).toEqual({ n: 4, has: 2, s: 1, lo: -2, hi: 3, mean: 0.5, users: 3, entry: '/late-but-earliest', exit: '/pay' })
    // Snapshots round-trip, including the distinct set.
    const back = agg.fromJSON(JSON.parse(JSON.stringify(agg.toJSON(acc))))
    const out2: JsonObject = {}
    agg.result(back, out2)
    expect(out2).toEqual(out)
  })

  it('sum of a non-number is an error naming the field; unknown functions are refused', () => {
    const agg = new Aggregator(parseAggregates({ s: 'sum(price.amount)' }))
    expect(agg.read({ price: { amount: '12' } })).toEqual({ error: 'sum(price.amount): price.amount is "12", not a number' })
    expect(() => parseAggregates({ x: 'median(v)' })).toThrow(/not one of/)
    expect(() => parseAggregates({ x: 'sum()' })).toThrow(/needs a field/)
  })
})

describe('snapshots', () => {
  // Restart at every possible point: restore + the rest gives exactly what one uninterrupted pass gives.
  const inputs: [string, number][] = [['a', 1], ['b', 3], ['a', 12], ['a', 7], ['b', 25], ['c', 26], ['a', 2], ['b', 40], ['c', 31], ['a', 55]]
  for (const spec of [tumbling(10, 5), hopping(20, 10, 5), session(8, 3)]) {
    it(`${spec.kind}: restoring a snapshot taken after any record continues identically`, () => {
      const run = (cut: number): unknown[] => {
        let d = driver(spec, { n: 'count()', users: 'distinct(v)', last: 'last(v)' })
        const out: unknown[] = []
        inputs.forEach(([k, t], i) => {
          if (i === cut) {
            const snap = JSON.parse(JSON.stringify(d.engine.snapshot()))
            d = driver(spec, { n: 'count()', users: 'distinct(v)', last: 'last(v)' })
            d.engine.restore(snap)
          }
          out.push(d.add(k, t, t))
        })
        out.push(d.flush())
        return out
      }
      const whole = run(-1)
      for (let cut = 0; cut < inputs.length; cut++) expect(run(cut)).toEqual(whole)
    })
  }
})
