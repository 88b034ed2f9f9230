import type { JsonValue } from '../../core/plugin-api.js'

/**
 * The value at a dotted path such as `data.items` or `results.0.rows` (a number indexes an
 * array); undefined when a step is missing. An empty path is the value itself.
 */
export function valueAt(root: JsonValue | undefined, path: string): JsonValue | undefined {
  if (path === '') return root
  let v: JsonValue | undefined = root
  for (const step of path.split('.')) {
    if (Array.isArray(v)) v = /^\d+$/.test(step) ? v[Number(step)] : undefined
    else if (typeof v === 'object' && v !== null) v = Object.hasOwn(v, step) ? v[step] : undefined
    else return undefined
    if (v === undefined) return undefined
  }
  return v
}

/**
 * The records of a response at `path`: an array gives its elements, an object gives itself,
 * null or a missing path gives none. Anything else is not a place where records sit.
 */
export function recordsAt(body: JsonValue, path: string): { records: JsonValue[]; missing: boolean } | { error: string } {
  const v = valueAt(body, path)
  if (v === undefined) return { records: [], missing: true }
  if (v === null) return { records: [], missing: false }
  if (Array.isArray(v)) return { records: v, missing: false }
  if (typeof v === 'object') return { records: [v], missing: false }
  return { error: `the response has ${typeof v} ${JSON.stringify(v).slice(0, 80)} at ${path === '' ? 'its top level' : `\`${path}\``}, not an array or object of records` }
}
