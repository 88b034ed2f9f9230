import type { JsonObject, JsonValue } from '../../core/plugin-api.js'

/** The value at a dotted path (`geo.country` → ['geo', 'country']), undefined when missing. */
export function getPath(record: JsonObject, path: readonly string[]): JsonValue | undefined {
  let cur: JsonValue | undefined = record
  for (const k of path) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return undefined
    cur = cur[k]
  }
  return cur
}

/** Sets the value at a dotted path, creating the objects on the way. */
export function setPath(record: JsonObject, path: readonly string[], value: JsonValue): void {
  let cur = record
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i]!
    const next = cur[k]
    if (typeof next !== 'object' || next === null || Array.isArray(next)) cur[k] = {}
    cur = cur[k] as JsonObject
  }
  cur[path[path.length - 1]!] = value
}

/** A group's values and the string that identifies it (JSON of the values: types stay apart). */
export function groupOf(record: JsonObject, paths: readonly (readonly string[])[]): { values: JsonValue[]; key: string } {
  const values = paths.map((p) => getPath(record, p) ?? null)
  return { values, key: JSON.stringify(values) }
}
