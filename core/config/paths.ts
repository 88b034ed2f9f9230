/**
 * Relative paths in plugin configs are relative to the pipeline file's folder, not to wherever
 * `tributary` was started. The plugin's config schema says which fields are paths
 * (`"format": "path"`), so plugins receive absolute paths and never guess.
 */
import { homedir } from 'node:os'
import path from 'node:path'

type SchemaNode = Record<string, unknown>

/**
 * A copy of `value` with every string that `schema` marks `"format": "path"` made absolute
 * against `baseDir` (`~/x` is under the user's home, as in a shell). Follows `properties`,
 * `patternProperties`, `additionalProperties`, `items`, `prefixItems`, local `$ref`s and the
 * branches of `allOf`/`anyOf`/`oneOf` (resolving twice is harmless: the result is absolute).
 */
export function resolveConfigPaths<T>(value: T, schema: object, baseDir: string): T {
  const root = schema as SchemaNode
  const visit = (v: unknown, s: unknown, refs: ReadonlySet<string>): unknown => {
    if (s === null || typeof s !== 'object') return v
    const node = s as SchemaNode
    if (typeof node.$ref === 'string' && node.$ref.startsWith('#') && !refs.has(node.$ref)) {
      const target = pointer(root, node.$ref)
      // The branch is walked with the ref's target, guarding against a ref that points to itself.
      v = visit(v, target, new Set([...refs, node.$ref]))
    }
    if (node.format === 'path' && typeof v === 'string' && v !== '') return absolute(v, baseDir)
    for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
      if (Array.isArray(node[key])) for (const branch of node[key]) v = visit(v, branch, refs)
    }
    if (Array.isArray(v)) {
      const prefix = Array.isArray(node.prefixItems) ? node.prefixItems : []
      return v.map((item, i) => visit(item, i < prefix.length ? prefix[i] : node.items, new Set()))
    }
    if (v !== null && typeof v === 'object') {
      const props = (node.properties ?? {}) as Record<string, unknown>
      const patterns = Object.entries((node.patternProperties ?? {}) as Record<string, unknown>)
      const out: Record<string, unknown> = {}
      for (const [k, x] of Object.entries(v)) {
        let r: unknown = x
        if (k in props) r = visit(r, props[k], new Set())
        for (const [p, ps] of patterns) if (new RegExp(p, 'u').test(k)) r = visit(r, ps, new Set())
        if (!(k in props) && !patterns.some(([p]) => new RegExp(p, 'u').test(k))) r = visit(r, node.additionalProperties, new Set())
        out[k] = r
      }
      return out
    }
    return v
  }
  return visit(value, schema, new Set()) as T
}

function absolute(p: string, baseDir: string): string {
  if (p === '~' || p.startsWith('~/')) return path.join(homedir(), p.slice(1))
  return path.resolve(baseDir, p)
}

/** The schema node at a local JSON pointer such as `#/$defs/file`. */
function pointer(root: SchemaNode, ref: string): unknown {
  let cur: unknown = root
  for (const raw of ref.slice(1).split('/').filter(Boolean)) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~')
    cur = cur !== null && typeof cur === 'object' ? (cur as SchemaNode)[key] : undefined
  }
  return cur
}
