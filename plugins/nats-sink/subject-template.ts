import type { JsonObject, JsonValue } from '../../core/plugin-api.js'

/** A subject for one record, or why the record has none (it goes to the dead-letter queue). */
export type SubjectResult = { subject: string } | { error: string }

export interface SubjectTemplate {
  readonly fields: readonly string[]
  render(record: JsonObject): SubjectResult
}

const FIELD = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$/
// A filled-in value becomes (part of) one subject token: no separators, wildcards or spaces.
const TOKEN_VALUE = /^[^\s.*>]+$/

/**
 * `teams.{region}` or `orders.{customer.country}.{kind}`: `{field}` (a dotted path for nested
 * fields) is replaced by the record's value. Checked once, when the sink opens; a bad template
 * is an error naming it, never a flood of dead letters.
 */
export function compileSubject(template: string): SubjectTemplate {
  const parts: ({ text: string } | { field: string })[] = []
  const re = /\{([^{}]*)\}/g
  let last = 0
  for (let m = re.exec(template); m; m = re.exec(template)) {
    parts.push({ text: template.slice(last, m.index) })
    const field = m[1]!.trim()
    if (!FIELD.test(field)) throw new Error(`subject template "${template}": {${m[1]}} is not a field name (write {field} or {parent.child})`)
    parts.push({ field })
    last = m.index + m[0].length
  }
  parts.push({ text: template.slice(last) })
  const literal = parts.map((p) => ('text' in p ? p.text : 'x')).join('')
  if (/[{}]/.test(parts.map((p) => ('text' in p ? p.text : '')).join(''))) throw new Error(`subject template "${template}": unbalanced { or }`)
  if (!validSubject(literal)) throw new Error(`subject template "${template}" does not make a valid NATS subject to publish to (tokens separated by dots, no spaces, no * or > wildcards, no empty tokens)`)
  const fields = parts.flatMap((p) => ('field' in p ? [p.field] : []))

  return {
    fields,
    render(record) {
      if (fields.length === 0) return { subject: template }
      let out = ''
      for (const p of parts) {
        if ('text' in p) {
          out += p.text
          continue
        }
        const v = lookup(record, p.field)
        if (v === undefined || v === null) return { error: `field ${p.field} (in subject ${template}) is missing` }
        if (typeof v === 'object') return { error: `field ${p.field} (in subject ${template}) is not a string or number` }
        const s = String(v)
        if (!TOKEN_VALUE.test(s)) return { error: `field ${p.field} (in subject ${template}) is ${JSON.stringify(s)}: a subject token cannot be empty or hold dots, spaces, * or >` }
        out += s
      }
      return { subject: out }
    },
  }
}

function lookup(record: JsonObject, path: string): JsonValue | undefined {
  let v: JsonValue | undefined = record
  for (const k of path.split('.')) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined
    v = v[k]
  }
  return v
}

function validSubject(s: string): boolean {
  return s.length > 0 && s.split('.').every((t) => t.length > 0 && !/[\s*>]/.test(t))
}
