import { describe, expect, it } from 'vitest'
import { KeyJournal } from '../../plugins/http-poll-source/key-journal.js'
import { recordsAt, valueAt } from '../../plugins/http-poll-source/json-path.js'

function counter(start = 1): () => number {
  let n = start
  return () => n++
}

describe('http-poll key journal', () => {
  it('with dedupe, skips keys seen before and remembers them across a restart', () => {
    const next = counter()
    const j = new KeyJournal(undefined, 100, true)
    expect(['a', 'b', 'a'].map((k) => j.admit(k, next))).toEqual([1, 2, undefined])
    j.confirm([['a', 1], ['b', 2]])
    const saved = j.save()
    expect(saved).toEqual([['a', 1, 0], ['b', 2, 0]])
    const again = new KeyJournal(saved, 100, true)
    expect(['a', 'b', 'c'].map((k) => again.admit(k, next))).toEqual([undefined, undefined, 3])
  })

  it('gives a record that was in flight at a crash its old offset back, once', () => {
    const next = counter()
    const j = new KeyJournal(undefined, 100, true)
    j.admit('a', next)
    j.admit('b', next)
    j.confirm([['a', 1]])
    const restarted = new KeyJournal(j.save(), 100, true)
    const next2 = counter(3)
    expect(['a', 'b', 'c', 'b'].map((k) => restarted.admit(k, next2))).toEqual([undefined, 2, 3, undefined])
  })

  it('without dedupe, keeps only in-flight keys and emits repeats anew', () => {
    const next = counter()
    const j = new KeyJournal(undefined, 100, false)
    expect(['x', 'y'].map((k) => j.admit(k, next))).toEqual([1, 2])
    j.confirm([['x', 1]])
    expect(j.save()).toEqual([['y', 2, 1]])
    const restarted = new KeyJournal(j.save(), 100, false)
    expect(['x', 'y', 'y'].map((k) => restarted.admit(k, next))).toEqual([3, 2, 4])
  })

  it('forgets the oldest confirmed keys beyond the window, never keys in flight', () => {
    const next = counter()
    const j = new KeyJournal(undefined, 2, true)
    for (const k of ['a', 'b', 'c']) j.admit(k, next)
    j.trim()
    expect(j.save().map((e) => e[0])).toEqual(['a', 'b', 'c'])
    j.confirm([['a', 1], ['b', 2]])
    j.trim()
    expect(j.save().map((e) => e[0])).toEqual(['b', 'c'])
    expect(j.admit('a', next)).toBe(4)
  })

  it('ignores a malformed saved value', () => {
    const j = new KeyJournal({ not: 'a list' }, 10, true)
    expect(j.save()).toEqual([])
    const k = new KeyJournal([['ok', 1, 0], ['bad'], 3, ['x', 'y', 1]], 10, true)
    expect(k.save()).toEqual([['ok', 1, 0]])
  })
})

describe('http-poll records path', () => {
  const body = { data: { items: [{ id: 1 }, { id: 2 }], one: { id: 3 }, none: null, n: 5 }, results: [{ rows: [{ id: 4 }] }] }

  it('finds values by dotted path with array indexes', () => {
    expect(valueAt(body, 'data.items.1.id')).toBe(2)
    expect(valueAt(body, 'results.0.rows.0.id')).toBe(4)
    expect(valueAt(body, 'data.missing.x')).toBeUndefined()
    expect(valueAt(body, 'data.items.x')).toBeUndefined()
    expect(valueAt({ a: 1 }, 'constructor')).toBeUndefined()
    expect(valueAt(body, '')).toBe(body)
  })

  it('an array gives its elements, an object itself, null or missing nothing, a scalar an error', () => {
    expect(recordsAt(body, 'data.items')).toEqual({ records: [{ id: 1 }, { id: 2 }], missing: false })
    expect(recordsAt(body, 'data.one')).toEqual({ records: [{ id: 3 }], missing: false })
    expect(recordsAt(body, 'data.none')).toEqual({ records: [], missing: false })
    expect(recordsAt(body, 'data.gone')).toEqual({ records: [], missing: true })
    expect(recordsAt([{ id: 9 }], '')).toEqual({ records: [{ id: 9 }], missing: false })
    expect(recordsAt(body, 'data.n')).toMatchObject({ error: expect.stringMatching(/number 5 at `data.n`/) })
  })
})
