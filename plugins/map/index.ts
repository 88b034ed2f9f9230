import { defineTransform, reject, type JsonObject, type JsonValue, type TransformResult } from '../../core/plugin-api.js'

interface MapConfig {
  set: Record<string, string>
  rename: Record<string, string>
  remove: string[]
  onError: 'reject' | 'drop'
}

function setPath(obj: JsonObject, path: string[], value: JsonValue): void {
  let cur = obj
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i]!
    const next = cur[k]
    if (typeof next !== 'object' || next === null || Array.isArray(next)) cur[k] = {}
    cur = cur[k] as JsonObject
  }
  cur[path[path.length - 1]!] = value
}

export default defineTransform<MapConfig>({
  open(ctx) {
    const sets = Object.entries(ctx.config.set).map(([field, expr]) => ({ path: field.split('.'), expr: ctx.expressions.compile(expr) }))
    const renames = Object.entries(ctx.config.rename)
    const removes = ctx.config.remove
    const removed = new Set(removes)
    const onError = ctx.config.onError
    // Without renames, removed fields are left out of the copy instead of deleted from it:
    // `delete` turns an object into a slow dictionary for everything after (sinks serialize it).
    const copy = (input: JsonObject): JsonObject => {
      if (renames.length > 0 || removed.size === 0) return { ...input }
      const rec: JsonObject = {}
      for (const k in input) if (!removed.has(k)) rec[k] = input[k]!
      return rec
    }
    return {
      process(records) {
        const out: TransformResult[] = new Array(records.length)
        for (let i = 0; i < records.length; i++) {
          const input = records[i]!
          try {
            // Expressions see the input record, not fields set earlier in the same map.
            const rec = copy(input)
            for (const s of sets) setPath(rec, s.path, s.expr.evaluate(input))
            for (const [from, to] of renames) {
              if (from in rec) {
                rec[to] = rec[from]!
                delete rec[from]
              }
            }
            for (const f of removes) if (f in rec) delete rec[f]
            out[i] = rec
          } catch (err) {
            out[i] = onError === 'drop' ? null : reject((err as Error).message)
          }
        }
        return out
      },
    }
  },
})
