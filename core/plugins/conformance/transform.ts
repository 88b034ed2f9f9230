import { isRejection, type JsonObject, type TransformDefinition, type TransformProcessor, type TransformResult } from '../../plugin-api.js'
import { describeError, notJson, withDeadline } from './hooks.js'
import { ODD_RECORDS } from './samples.js'
import type { Recorder } from './recorder.js'
import type { SuiteEnv } from './env.js'

/**
 * A transform returns exactly one result per input, in order — a record, several, null or
 * reject(reason) — for any batch size, never throws on a record it cannot handle (it rejects
 * it: DLQ), emits JSON, and does not depend on how records are batched.
 */
export async function checkTransform(def: TransformDefinition<unknown>, env: SuiteEnv, r: Recorder): Promise<TransformProcessor[]> {
  const opened: TransformProcessor[] = []
  const open = async (): Promise<TransformProcessor | undefined> => {
    try {
      const proc = await withDeadline('open()', env.timeoutMs, () => def.open(env.context() as never))
      if (!proc || typeof proc.process !== 'function') {
        r.fail('open', 'open() must return an object with a process(records) function')
        return undefined
      }
      opened.push(proc)
      return proc
    } catch (err) {
      r.fail('open', `open() failed: ${describeError(err)}`)
      return undefined
    }
  }
  const proc = await open()
  if (!proc) return opened
  r.pass('open', 'open(ctx) returned a processor')

  const run = async (records: readonly JsonObject[], p = proc): Promise<TransformResult[]> => withDeadline(`process() of ${records.length} records`, env.timeoutMs, () => p.process(records.map((x) => structuredClone(x))))

  // One result per input, for batches of several, one and none.
  let main: TransformResult[] | undefined
  try {
    main = await run(env.records)
    const one = await run(env.records.slice(0, 1))
    const none = await run([])
    const problems = [shape(main, env.records.length), shape(one, 1), shape(none, 0)].filter(Boolean)
    if (problems.length) r.fail('process-one-per-input', problems.join('; '))
    else r.pass('process-one-per-input', `one valid result per input for batches of ${env.records.length}, 1 and 0 records`)
  } catch (err) {
    r.fail('process-one-per-input', `process() threw on the sample records: ${describeError(err)}`)
  }

  if (main) {
    const why = main.map((x, i) => (isRejection(x) ? undefined : notJson(x, `result[${i}]`))).find(Boolean)
    if (why) r.fail('outputs-json', `${why}: records travel between stages as JSON`)
    else r.pass('outputs-json', 'every output is plain JSON')
    rejections(main, env.records, 'process-one-per-input', r)
  }

  // Records the plugin does not expect: reject() them (DLQ) rather than throw (fails the batch).
  try {
    const odd = await run(ODD_RECORDS)
    const problem = shape(odd, ODD_RECORDS.length)
    if (problem) r.fail('reject-to-dlq', problem)
    else {
      const n = rejections(odd, ODD_RECORDS, 'reject-to-dlq', r)
      r.pass('reject-to-dlq', `records with missing fields, wrong types and nulls got results (${n} rejected to the DLQ with a reason)`)
    }
  } catch (err) {
    r.fail('reject-to-dlq', `process() threw on an unexpected record (${describeError(err)}); return reject(reason) for a record you cannot handle, so it goes to the dead-letter queue and the rest of the batch flows`)
  }

  // Batch boundaries are the runtime's choice: a stateless transform must give the same results.
  if (env.manifest.stateful) r.skip('batch-split', 'stateful plugin: results may depend on earlier batches')
  else if (main && env.records.length >= 2) {
    const fresh = await open()
    if (fresh) {
      try {
        const half = Math.ceil(env.records.length / 2)
        const split = [...(await run(env.records.slice(0, half), fresh)), ...(await run(env.records.slice(half), fresh))]
        const at = split.findIndex((x, i) => canonical(x) !== canonical(main[i]))
        if (at === -1) r.pass('batch-split', 'the same results whether records come in one batch or two')
        else r.warn('batch-split', `record ${at} gave ${canonical(main[at])} in one batch but ${canonical(split[at])} in two: results should not depend on batch boundaries (a clock or a counter?)`)
      } catch (err) {
        r.fail('batch-split', `process() failed on half a batch: ${describeError(err)}`)
      }
    }
  }
  return opened
}

/** Why `results` is not one valid result per input, or undefined. */
function shape(results: unknown, n: number): string | undefined {
  if (!Array.isArray(results)) return `process() returned ${typeof results}, not an array`
  if (results.length !== n) return `process() returned ${results.length} ${results.length === 1 ? 'result' : 'results'} for ${n} ${n === 1 ? 'record' : 'records'}`
  for (let i = 0; i < results.length; i++) {
    const x: unknown = results[i]
    if (x === null || isRejection(x)) {
      if (isRejection(x) && (typeof x.reason !== 'string' || x.reason.trim() === '')) return `result ${i} is a rejection without a reason`
      continue
    }
    if (x === undefined) return `result ${i} is undefined (return null to drop a record)`
    const records = Array.isArray(x) ? x : [x]
    if (records.some((rec) => rec === null || typeof rec !== 'object' || Array.isArray(rec))) return `result ${i} is not a record, an array of records, null or reject(reason)`
  }
  return undefined
}

function rejections(results: TransformResult[], inputs: readonly JsonObject[], check: string, r: Recorder): number {
  let n = 0
  results.forEach((x, i) => {
    if (isRejection(x)) {
      n++
      r.dlq.push({ check, reason: x.reason, record: inputs[i] })
    }
  })
  return n
}

function canonical(x: unknown): string {
  if (isRejection(x)) return `reject(${JSON.stringify(x.reason)})`
  return JSON.stringify(x, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v))
}
