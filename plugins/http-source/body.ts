import type { JsonObject } from '../../core/plugin-api.js'

/** One entry of a request body: a record, or why that part could not be made one (→ DLQ). */
export type BodyEntry = { value: JsonObject } | { error: string; raw: string }

/** The body as a whole is unusable: answered 400, nothing stored. */
export class BodyError extends Error {}

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * A body is one JSON object, a JSON array of objects, or NDJSON (one object per line). Parts that
 * are not objects become error entries, so one bad record never refuses its neighbours.
 */
export function parseBody(text: string): BodyEntry[] {
  const trimmed = text.trim()
  if (trimmed === '') throw new BodyError('the body is empty: send a JSON object, an array of objects, or NDJSON')
  let whole: unknown
  let parsed = false
  try {
    whole = JSON.parse(trimmed)
    parsed = true
  } catch {
    // Not one JSON document: read it as NDJSON below.
  }
  if (parsed) {
    if (isObject(whole)) return [{ value: whole }]
    if (Array.isArray(whole)) {
      return whole.map((v, i) => (isObject(v) ? { value: v } : { error: `element ${i}: a record must be a JSON object`, raw: JSON.stringify(v) ?? String(v) }))
    }
    throw new BodyError('the body must be a JSON object, an array of objects, or NDJSON')
  }
  const out: BodyEntry[] = []
  const lines = trimmed.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '')
    if (line.trim() === '') continue
    try {
      const v: unknown = JSON.parse(line)
      out.push(isObject(v) ? { value: v } : { error: `line ${i + 1}: a record must be a JSON object`, raw: line })
    } catch (err) {
      out.push({ error: `line ${i + 1}: not valid JSON: ${(err as Error).message}`, raw: line })
    }
  }
  return out
}
