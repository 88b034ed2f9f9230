/**
 * ajv errors as sentences a user can act on (ESLint's rule-option messages are the model):
 * `sinks[0].config.table: must be string (got 42)`, `unknown property "tabel"` with "did you
 * mean `table`?", `missing required property "table"`. ajv's noisy bookkeeping errors (`if`,
 * the `anyOf` parent of a more precise branch error) are dropped.
 */
import { distance } from 'fastest-levenshtein'
import { formatPath, pointerToPath, valueAt, type JsonPath, type PathIssue } from '../config/json-path.js'
import { BYTES_EXAMPLES, DURATION_EXAMPLES } from '../config/units.js'
import type { ErrorObject } from './ajv.js'

export interface AjvIssueOptions {
  /** Where the validated value sits in its file, e.g. `['sinks', 0, 'config']`. */
  at?: JsonPath
  /**
   * The value as written in the file (before defaults and secret references are applied):
   * "(got …)" quotes it, so a resolved secret never appears in a message.
   */
  written?: unknown
}

/**
 * Schema annotation: a noun phrase for what a `pattern` or `format` expects, so the message
 * reads `must be lowercase letters, digits, - and _` instead of a regular expression.
 */
export const EXPECTED_KEYWORD = 'x-expected'

const FORMAT_EXPECTED: Record<string, string> = {
  duration: `a duration such as ${DURATION_EXAMPLES}`,
  bytes: `a size such as ${BYTES_EXAMPLES}`,
  semver: 'a semantic version such as 1.2.3',
  'semver-range': 'a semver range such as >=0.1.0 or ^1.2.0',
}

/** The candidate closest to `word`, only when it is close enough to be a likely typo. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const w = word.toLowerCase()
  let best: string | undefined
  let bestD = Infinity
  for (const c of candidates) {
    const d = distance(w, c.toLowerCase())
    if (d < bestD && c !== word) {
      best = c
      bestD = d
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined
}

/** A value as quoted in "(got …)": scalars as JSON (long strings cut), containers by kind. */
export function describeValue(v: unknown): string {
  if (Array.isArray(v)) return 'an array'
  if (v !== null && typeof v === 'object') return 'an object'
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v)
  return v === undefined ? 'nothing' : JSON.stringify(v)
}

export function ajvIssues(errors: readonly ErrorObject[] | null | undefined, data: unknown, opts: AjvIssueOptions = {}): PathIssue[] {
  const at = opts.at ?? []
  const written = 'written' in opts ? opts.written : data
  const out: Sentence[] = []
  const seen = new Set<string>()
  for (const e of simplify(errors ?? [])) {
    const rel = pointerToPath(e.instancePath, data)
    const got = (): string => {
      const w = valueAt(written, rel)
      return ` (got ${describeValue(w !== undefined ? w : e.data)})`
    }
    const issue = sentence(e, [...at, ...rel], got)
    const key = `${formatPath(issue.at)}\0${issue.message}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push(issue)
  }
  return dropTypoConsequences(out)
}

/** An issue plus what `dropTypoConsequences` needs to know about it. */
type Sentence = PathIssue & { missing?: string; unknownKey?: boolean }

/**
 * `tabel: t` yields both "unknown property tabel (did you mean table?)" and "missing required
 * property table": one typo, one issue. Keep the first, which names the fix.
 */
function dropTypoConsequences(issues: Sentence[]): PathIssue[] {
  const fixes = new Set(issues.filter((i) => i.unknownKey && i.suggestion !== undefined).map((i) => `${formatPath(i.at.slice(0, -1))}\0${i.suggestion}`))
  return issues
    .filter((i) => i.missing === undefined || !fixes.has(`${formatPath(i.at)}\0${i.missing}`))
    .map(({ missing: _m, unknownKey: _u, ...issue }) => issue)
}

function sentence(e: ErrorObject, at: JsonPath, got: () => string): Sentence {
  const p = e.params as Record<string, unknown>
  const parent = (e.parentSchema ?? {}) as Record<string, unknown>
  const expected = typeof parent[EXPECTED_KEYWORD] === 'string' ? (parent[EXPECTED_KEYWORD] as string) : undefined
  if (e.propertyName !== undefined) {
    // An error about a key itself (propertyNames): point at the key.
    const inner = expected && (e.keyword === 'pattern' || e.keyword === 'format') ? `must be ${expected}` : (e.message ?? 'is not allowed')
    return { at: [...at, e.propertyName], message: `the property name "${e.propertyName}" is not allowed: it ${inner}` }
  }
  switch (e.keyword) {
    case 'type':
      return { at, message: `must be ${typeList(p.type)}${got()}` }
    case 'required':
      return { at, message: `missing required property "${String(p.missingProperty)}"`, missing: String(p.missingProperty) }
    case 'requiredOneOf': // made by simplify() from `anyOf` branches that each require one property
      return { at, message: `missing a required property: one of ${(p.names as string[]).map((n) => `"${n}"`).join(', ')}` }
    case 'dependentRequired':
      return { at, message: `missing property "${String(p.missingProperty)}", required when "${String(p.property)}" is set` }
    case 'additionalProperties':
    case 'unevaluatedProperties': {
      const key = String(p.additionalProperty ?? p.unevaluatedProperty)
      const allowed = Object.keys((parent.properties ?? {}) as object)
      const suggestion = closest(key, allowed)
      const list = allowed.length === 0 ? '; this object takes no properties' : suggestion ? '' : `; allowed: ${allowed.join(', ')}`
      return { at: [...at, key], message: `unknown property "${key}"${list}`, suggestion, unknownKey: true }
    }
    case 'enum': {
      const values = (p.allowedValues ?? []) as unknown[]
      const suggestion = typeof e.data === 'string' ? closest(e.data, values.filter((v): v is string => typeof v === 'string')) : undefined
      return { at, message: `must be one of ${values.map((v) => JSON.stringify(v)).join(', ')}${got()}`, suggestion }
    }
    case 'const':
      return { at, message: `must be ${JSON.stringify(p.allowedValue)}${got()}` }
    case 'pattern':
      return { at, message: `must be ${expected ?? `a string matching ${String(p.pattern)}`}${got()}` }
    case 'format': {
      const fmt = String(p.format)
      return { at, message: `must be ${expected ?? FORMAT_EXPECTED[fmt] ?? `a valid ${fmt}`}${got()}` }
    }
    case 'minLength':
      return { at, message: p.limit === 1 ? 'must not be empty' : `must be at least ${String(p.limit)} characters long` }
    case 'maxLength':
      return { at, message: `must be at most ${String(p.limit)} characters long` }
    case 'minItems':
      return { at, message: `must have at least ${count(p.limit, 'item')}` }
    case 'maxItems':
      return { at, message: `must have at most ${count(p.limit, 'item')}` }
    case 'minProperties':
      return { at, message: `must have at least ${count(p.limit, 'property', 'properties')}` }
    case 'maxProperties':
      return { at, message: `must have at most ${count(p.limit, 'property', 'properties')}` }
    case 'uniqueItems':
      return { at, message: `must not repeat an item (items ${String(p.j)} and ${String(p.i)} are equal)` }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { at, message: `must be ${String(p.comparison)} ${String(p.limit)}${got()}` }
    case 'multipleOf':
      return { at, message: `must be a multiple of ${String(p.multipleOf)}${got()}` }
    case 'false schema':
      return { at, message: 'is not allowed here' }
    case 'anyOf':
    case 'oneOf':
      return { at, message: p.passingSchemas ? 'matches more than one of the allowed forms; make it match exactly one' : 'does not match any of the allowed forms' }
    case 'not':
      return { at, message: `is not allowed here${got()}` }
    default:
      return { at, message: `${e.message ?? 'is invalid'}` }
  }
}

function typeList(t: unknown): string {
  const types = Array.isArray(t) ? t.map(String) : String(t).split(',')
  return types.join(' or ')
}

function count(n: unknown, one: string, many = `${one}s`): string {
  return `${String(n)} ${n === 1 ? one : many}`
}

// ---- noise reduction ----

/**
 * Drops errors that a more precise one already explains:
 * - `if` ("must match then schema"): the `then` branch's own error says what is wrong;
 * - the outer `propertyNames` error when the inner one names the key;
 * - an `anyOf`/`oneOf` parent and its branches, reduced to the branch that explains best:
 *   the branch that got deeper into the value (its shape matched), else the branches that are
 *   not mere type mismatches, else one merged type error ("must be string or array").
 */
function simplify(input: readonly ErrorObject[]): ErrorObject[] {
  let errors = input.filter((e) => e.keyword !== 'if')
  errors = errors.filter((e) => e.keyword !== 'propertyNames' || !errors.some((x) => x.propertyName !== undefined && x.instancePath === e.instancePath))
  // Innermost alternatives first, so an outer one sees its branches already reduced.
  const alternatives = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').sort((a, b) => b.schemaPath.length - a.schemaPath.length)
  for (const alt of alternatives) {
    const i = errors.indexOf(alt)
    const children = branchErrors(errors, i)
    if (children.length === 0) continue
    const deeper = children.filter((c) => c.instancePath.startsWith(`${alt.instancePath}/`))
    let keep: ErrorObject[]
    if (deeper.length > 0) keep = deeper
    else if (children.every((c) => c.keyword === 'required')) {
      const names = children.map((c) => String((c.params as { missingProperty: string }).missingProperty))
      keep = [{ ...alt, keyword: 'requiredOneOf', params: { names } }]
    } else if (children.some((c) => c.keyword !== 'type')) keep = children.filter((c) => c.keyword !== 'type')
    else keep = [{ ...alt, keyword: 'type', params: { type: [...new Set(children.flatMap((c) => typeList((c.params as { type: unknown }).type).split(' or ')))] } }]
    errors = [...errors.slice(0, i - children.length), ...keep, ...errors.slice(i + 1)]
  }
  return errors
}

/**
 * The errors of an alternative's branches: ajv pushes them just before the alternative itself,
 * inside its value, with a schema path under it (or under `$defs` when a branch is a `$ref`).
 */
function branchErrors(errors: readonly ErrorObject[], altIndex: number): ErrorObject[] {
  const alt = errors[altIndex]!
  let start = altIndex
  while (start > 0) {
    const c = errors[start - 1]!
    const inside = c.instancePath === alt.instancePath || c.instancePath.startsWith(`${alt.instancePath}/`)
    const under = c.schemaPath.startsWith(`${alt.schemaPath}/`) || /^#\/(\$defs|definitions)\//.test(c.schemaPath) || !c.schemaPath.startsWith('#')
    if (!inside || !under) break
    start--
  }
  return errors.slice(start, altIndex)
}
