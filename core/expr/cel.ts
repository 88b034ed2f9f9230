import { Environment } from '@marcbachmann/cel-js'
import type { CompiledExpression, ExpressionCompiler, JsonObject, JsonValue } from '../plugin-api.js'
import { TributaryError, errorMessage } from '../errors.js'

/**
 * Tributary's expression language is CEL (safe, no eval). Records are JSON, so every number is a
 * JS number that CEL sees as `double` while literals like `2` are `int`: CEL would refuse
 * `value * 2` (FACTS). We register mixed int/double operators so arithmetic and comparison work
 * on JSON numbers whatever their spelling, and turn CEL's BigInt results back into numbers.
 */
function createEnvironment(): Environment {
  const env = new Environment({ unlistedVariablesAreDyn: true, homogeneousAggregateLiterals: false })
  const ops: Record<string, (a: number, b: number) => number> = {
    '+': (a, b) => a + b,
    '-': (a, b) => a - b,
    '*': (a, b) => a * b,
    '/': (a, b) => a / b,
    '%': (a, b) => a % b,
  }
  for (const [op, fn] of Object.entries(ops)) {
    env.registerOperator(`double ${op} int`, (a: number, b: bigint) => fn(a, Number(b)))
    env.registerOperator(`int ${op} double`, (a: bigint, b: number) => fn(Number(a), b))
  }
  // CEL has no double % double; JSON users expect it (`value % 2 == 0` on a float-typed 4).
  env.registerOperator('double % double', (a: number, b: number) => a % b)
  return env
}

let shared: Environment | undefined

/** The record's fields are top-level variables (`value > 100`); `record` names the whole record. */
function withRecord(record: JsonObject): Record<string, unknown> {
  return { ...record, record }
}

// Copying the record per evaluation only when the expression names `record` (hot path).
const NAMES_RECORD = /(^|[^\w.])record\b/

function toJson(v: unknown): JsonValue {
  if (typeof v === 'bigint') {
    return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()
  }
  if (v === undefined) return null
  if (Array.isArray(v)) return v.map(toJson)
  if (v instanceof Map) {
    const out: Record<string, JsonValue> = {}
    for (const [k, val] of v) out[String(k)] = toJson(val)
    return out
  }
  if (v instanceof Date) return v.toISOString()
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64')
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, JsonValue> = {}
    for (const [k, val] of Object.entries(v)) out[k] = toJson(val)
    return out
  }
  return v as JsonValue
}

export function compileExpression(source: string): CompiledExpression {
  shared ??= createEnvironment()
  let fn: (ctx: Record<string, unknown>) => unknown
  try {
    fn = shared.parse(source) as unknown as (ctx: Record<string, unknown>) => unknown
  } catch (err) {
    throw new TributaryError('E_EXPR', `expression \`${source}\` does not parse: ${firstLine(errorMessage(err))}`, {
      hint: 'expressions are CEL: `value > 100`, `name == "x" && size(tags) > 0`, `value * 2`',
      cause: err,
    })
  }
  const activation = NAMES_RECORD.test(source) ? withRecord : (r: JsonObject) => r
  const evaluate = (record: JsonObject): JsonValue => {
    try {
      return toJson(fn(activation(record)))
    } catch (err) {
      throw new TributaryError('E_EXPR', `expression \`${source}\` failed: ${firstLine(errorMessage(err))}`, { cause: err })
    }
  }
  return {
    source,
    evaluate,
    test(record) {
      const v = evaluate(record)
      if (typeof v !== 'boolean') {
        throw new TributaryError('E_EXPR', `expression \`${source}\` must give true or false, got ${JSON.stringify(v)}`)
      }
      return v
    },
  }
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s
}

export const celCompiler: ExpressionCompiler = { compile: compileExpression }
