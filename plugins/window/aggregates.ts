import type { JsonObject, JsonValue } from '../../core/plugin-api.js'
import { getPath } from './fields.js'

/**
 * Aggregate functions of `window` and `aggregate`, pure: `n: count()`, `total: sum(value)`,
 * `low: min(price)`, `high: max(price)`, `mean: avg(value)`, `users: distinct(user_id)` (exact
 * distinct count), `entry: first(page)`, `exit: last(page)`.
 *
 * Accumulators are plain values (a Set for distinct) so a window's state is cheap to snapshot.
 * Missing and null fields are skipped (as SQL aggregates skip NULL); sum and avg refuse a value
 * that is not a number, and that record is rejected whole before any accumulator changes.
 */
export type AggFn = 'count' | 'sum' | 'min' | 'max' | 'avg' | 'distinct' | 'first' | 'last'

export interface AggSpec {
  name: string
  fn: AggFn
  /** Field path; absent for count(). */
  field?: string[]
  source: string
}

const CALL = /^\s*([a-z_]+)\s*\(\s*([^()\s]*)\s*\)\s*$/
const FNS: Record<string, AggFn> = { count: 'count', sum: 'sum', min: 'min', max: 'max', avg: 'avg', distinct: 'distinct', count_distinct: 'distinct', uniq_exact: 'distinct', first: 'first', last: 'last' }

/** Parses `{ name: "fn(field)" }`; throws an Error naming the bad entry. */
export function parseAggregates(cfg: Record<string, string>): AggSpec[] {
  const out: AggSpec[] = []
  for (const [name, source] of Object.entries(cfg)) {
    const m = CALL.exec(source)
    const fn = m ? FNS[m[1]!] : undefined
    if (!m || !fn) throw new Error(`aggregate "${name}": "${source}" is not one of count(), count(field), sum(f), min(f), max(f), avg(f), distinct(f), first(f), last(f)`)
    const field = m[2] ? m[2].split('.') : undefined
    if (!field && fn !== 'count') throw new Error(`aggregate "${name}": ${m[1]}() needs a field, e.g. ${m[1]}(value)`)
    out.push({ name, fn, field, source })
  }
  return out
}

/** [time, value] of first/last; time orders them, arrival breaks ties. */
type Timed = [number, JsonValue]
export type AccValue = number | JsonValue | [number, number] | Set<string> | Timed | null
export type Acc = AccValue[]

/** Order used by min/max: numbers, then strings, then anything else by its JSON text. */
function compare(a: JsonValue, b: JsonValue): number {
  const rank = (v: JsonValue): number => (typeof v === 'number' ? 0 : typeof v === 'string' ? 1 : 2)
  const ra = rank(a)
  const rb = rank(b)
  if (ra !== rb) return ra - rb
  if (ra === 0) return (a as number) - (b as number)
  const sa = ra === 1 ? (a as string) : JSON.stringify(a)
  const sb = rb === 1 ? (b as string) : JSON.stringify(b)
  return sa < sb ? -1 : sa > sb ? 1 : 0
}

export class Aggregator {
  constructor(readonly specs: AggSpec[]) {}

  init(): Acc {
    return this.specs.map((s) => {
      switch (s.fn) {
        case 'count':
        case 'sum':
          return 0
        case 'avg':
          return [0, 0] as [number, number]
        case 'distinct':
          return new Set<string>()
        default:
          return null
      }
    })
  }

  /** The values each aggregate reads from a record, or the reason the record cannot be counted. */
  read(record: JsonObject): { values: (JsonValue | undefined)[] } | { error: string } {
    const values: (JsonValue | undefined)[] = new Array(this.specs.length)
    for (let i = 0; i < this.specs.length; i++) {
      const s = this.specs[i]!
      if (!s.field) continue
      const v = getPath(record, s.field)
      if ((s.fn === 'sum' || s.fn === 'avg') && v !== undefined && v !== null && (typeof v !== 'number' || !Number.isFinite(v))) {
        return { error: `${s.source}: ${s.field.join('.')} is ${JSON.stringify(v)}, not a number` }
      }
      values[i] = v
    }
    return { values }
  }

  add(acc: Acc, values: (JsonValue | undefined)[], time: number): void {
    for (let i = 0; i < this.specs.length; i++) {
      const s = this.specs[i]!
      const v = values[i]
      if (s.fn === 'count') {
        if (!s.field || (v !== undefined && v !== null)) acc[i] = (acc[i] as number) + 1
        continue
      }
      if (v === undefined || (v === null && s.fn !== 'first' && s.fn !== 'last')) continue
      switch (s.fn) {
        case 'sum':
          acc[i] = (acc[i] as number) + (v as number)
          break
        case 'avg': {
          const a = acc[i] as [number, number]
          a[0] += v as number
          a[1] += 1
          break
        }
        case 'min':
          if (acc[i] === null || compare(v, acc[i] as JsonValue) < 0) acc[i] = v
          break
        case 'max':
          if (acc[i] === null || compare(v, acc[i] as JsonValue) > 0) acc[i] = v
          break
        case 'distinct':
          ;(acc[i] as Set<string>).add(JSON.stringify(v))
          break
        case 'first': {
          const cur = acc[i] as Timed | null
          if (cur === null || time < cur[0]) acc[i] = [time, v]
          break
        }
        case 'last': {
          const cur = acc[i] as Timed | null
          if (cur === null || time >= cur[0]) acc[i] = [time, v]
          break
        }
      }
    }
  }

  /** Folds `b` into `a` (session windows that a record bridges); `a` is the earlier one. */
  merge(a: Acc, b: Acc): void {
    for (let i = 0; i < this.specs.length; i++) {
      const s = this.specs[i]!
      const x = a[i]
      const y = b[i]
      switch (s.fn) {
        case 'count':
        case 'sum':
          a[i] = (x as number) + (y as number)
          break
        case 'avg':
          a[i] = [(x as [number, number])[0] + (y as [number, number])[0], (x as [number, number])[1] + (y as [number, number])[1]]
          break
        case 'min':
          if (x === null || (y !== null && compare(y as JsonValue, x as JsonValue) < 0)) a[i] = y
          break
        case 'max':
          if (x === null || (y !== null && compare(y as JsonValue, x as JsonValue) > 0)) a[i] = y
          break
        case 'distinct':
          for (const v of y as Set<string>) (x as Set<string>).add(v)
          break
        case 'first':
          if (x === null || (y !== null && (y as Timed)[0] < (x as Timed)[0])) a[i] = y
          break
        case 'last':
          if (x === null || (y !== null && (y as Timed)[0] >= (x as Timed)[0])) a[i] = y
          break
      }
    }
  }

  /** The output fields: name → value. */
  result(acc: Acc, out: JsonObject): void {
    for (let i = 0; i < this.specs.length; i++) {
      const s = this.specs[i]!
      const x = acc[i]
      switch (s.fn) {
        case 'avg': {
          const [sum, n] = x as [number, number]
          out[s.name] = n === 0 ? null : sum / n
          break
        }
        case 'distinct':
          out[s.name] = (x as Set<string>).size
          break
        case 'first':
        case 'last':
          out[s.name] = x === null ? null : (x as Timed)[1]
          break
        default:
          out[s.name] = x as JsonValue
      }
    }
  }

  toJSON(acc: Acc): JsonValue {
    return acc.map((x) => (x instanceof Set ? { set: [...x] } : (x as JsonValue)))
  }

  fromJSON(j: JsonValue): Acc {
    const arr = j as JsonValue[]
    return this.specs.map((s, i) => {
      const x = arr[i] ?? null
      if (s.fn === 'distinct') return new Set<string>(((x as { set?: string[] } | null)?.set ?? []) as string[])
      if (s.fn === 'avg') return [...(x as [number, number])] as [number, number]
      return x
    })
  }

  /** Identifies the aggregate list in snapshots: state saved for other aggregates is refused. */
  signature(): string {
    return this.specs.map((s) => `${s.name}=${s.fn}(${s.field?.join('.') ?? ''})`).join(',')
  }
}
