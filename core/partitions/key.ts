import type { JsonObject, JsonValue } from '../plugin-api.js'

/**
 * Which key partition a record belongs to. The stage that produces a partitioned stage's input
 * (the source, or the group before it) calls this for every record it publishes, in whatever
 * process it runs: the hash must be the same everywhere and forever (FNV-1a, 32 bits, over the
 * UTF-8 bytes), or a key's records would be split between partitions.
 *
 * The key is the JSON of the values at the plugin's key paths, missing values as null — how the
 * built-in stateful plugins identify a group (`window`'s `groupBy`, `dedupe`'s `key`, `join`'s
 * `on`). Records a plugin puts in one group have equal values there, so they land together.
 */
export function partitionKey(record: JsonObject, paths: readonly (readonly string[])[]): string {
  return JSON.stringify(paths.map((p) => valueAt(record, p) ?? null))
}

export function partitionOf(record: JsonObject, paths: readonly (readonly string[])[], count: number): number {
  return count <= 1 ? 0 : fnv1a32(partitionKey(record, paths)) % count
}

/** The value at a path of field names (a dotted path split), undefined when missing. */
function valueAt(record: JsonObject, path: readonly string[]): JsonValue | undefined {
  let cur: JsonValue | undefined = record
  for (const k of path) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return undefined
    cur = cur[k]
  }
  return cur
}

const encoder = new TextEncoder()

/** FNV-1a (32 bits) of the UTF-8 bytes of `text`. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5
  for (const b of encoder.encode(text)) {
    h ^= b
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h >>> 0
}
