/**
 * Paths into a parsed config file. Kept as segments while validating (so a position can be
 * looked up in the source) and printed for people as `sinks[0].config.table`.
 */
export type JsonPath = readonly (string | number)[]

/** A problem at a path, before it is given a file, line and column. */
export interface PathIssue {
  at: JsonPath
  message: string
  suggestion?: string
}

const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/

/** `['sinks', 0, 'config', 'a b']` → `sinks[0].config["a b"]`; the root is `''`. */
export function formatPath(path: JsonPath): string {
  let out = ''
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`
    else if (PLAIN_KEY.test(seg)) out += out === '' ? seg : `.${seg}`
    else out += `[${JSON.stringify(seg)}]`
  }
  return out
}

/**
 * An ajv `instancePath` (a JSON pointer) as segments. Array indexes become numbers by looking
 * at `data` (the validated value), so a key `"0"` of an object stays a string.
 */
export function pointerToPath(pointer: string, data: unknown): (string | number)[] {
  if (pointer === '') return []
  const out: (string | number)[] = []
  let cur: unknown = data
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    const isIndex = /^(0|[1-9]\d*)$/.test(key) && (Array.isArray(cur) || cur === undefined)
    out.push(isIndex ? Number(key) : key)
    cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[key] : undefined
  }
  return out
}

/** The value at `path` in `data`, or undefined. */
export function valueAt(data: unknown, path: JsonPath): unknown {
  let cur = data
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Record<string | number, unknown>)[seg]
  }
  return cur
}

/** True when `inner` is `outer` or lies below it. */
export function isWithin(inner: JsonPath, outer: JsonPath): boolean {
  return outer.length <= inner.length && outer.every((seg, i) => seg === inner[i])
}
