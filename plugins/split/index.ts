import { defineTransform, reject, type JsonObject, type JsonValue, type TransformResult } from '../../core/plugin-api.js'

interface SplitConfig {
  mode: 'words' | 'pattern' | 'array'
  field: string
  as: string
  pattern?: string
  lowercase: boolean
  keep: string[]
  onError: 'reject' | 'drop'
}

/** The words rule: lower-case, then cut at runs of anything but Unicode letters and digits. */
const NOT_WORD = /[^\p{L}\p{N}]+/u

export function words(text: string): string[] {
  return text.toLowerCase().split(NOT_WORD).filter((w) => w !== '')
}

function get(record: JsonObject, path: string[]): JsonValue | undefined {
  let cur: JsonValue | undefined = record
  for (const k of path) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return undefined
    cur = cur[k]
  }
  return cur
}

export default defineTransform<SplitConfig>({
  open(ctx) {
    const cfg = ctx.config
    const path = cfg.field.split('.')
    let cut: (text: string) => string[]
    if (cfg.mode === 'pattern') {
      if (!cfg.pattern) throw new Error('`mode: pattern` needs `pattern`')
      let re: RegExp
      try {
        re = new RegExp(cfg.pattern, 'u')
      } catch (err) {
        throw new Error(`\`pattern\` is not a valid regular expression: ${(err as Error).message}`)
      }
      cut = (text) => text.split(re).filter((p) => p !== '').map((p) => (cfg.lowercase ? p.toLowerCase() : p))
    } else cut = words
    const fail = (reason: string): TransformResult => (cfg.onError === 'drop' ? null : reject(reason))

    return {
      process(records) {
        const out: TransformResult[] = new Array(records.length)
        for (let i = 0; i < records.length; i++) {
          const r = records[i]!
          const v = get(r, path)
          const kept: JsonObject = {}
          for (const k of cfg.keep) if (r[k] !== undefined) kept[k] = r[k]!
          if (cfg.mode === 'array') {
            if (!Array.isArray(v)) {
              out[i] = fail(`${cfg.field} is ${v === undefined ? 'missing' : JSON.stringify(v)}, not an array`)
              continue
            }
            out[i] = v.map((e) => (typeof e === 'object' && e !== null && !Array.isArray(e) ? { ...kept, ...e } : { ...kept, [cfg.as]: e }))
            continue
          }
          if (typeof v !== 'string') {
            out[i] = fail(`${cfg.field} is ${v === undefined ? 'missing' : JSON.stringify(v)}, not text`)
            continue
          }
          out[i] = cut(v).map((piece) => ({ ...kept, [cfg.as]: piece }))
        }
        return out
      },
    }
  },
})
