import type { JsonObject, SinkDefinition, SinkWriter, SinkWriteResult } from '../../plugin-api.js'
import { describeError, withDeadline } from './hooks.js'
import { ODD_RECORDS } from './samples.js'
import type { Recorder } from './recorder.js'
import type { SuiteEnv } from './env.js'

/**
 * A sink declares sane batching, writes a batch (and the same batch again, as after a crash:
 * `redelivered`), and refuses a record it cannot write with `rejected` (DLQ) instead of
 * throwing, which would retry the whole batch and then stop the pipeline.
 */
export async function checkSink(def: SinkDefinition<unknown>, env: SuiteEnv, r: Recorder): Promise<SinkWriter[]> {
  let writer: SinkWriter
  try {
    writer = await withDeadline('open()', env.timeoutMs, () => def.open(env.context() as never))
    if (!writer || typeof writer.write !== 'function') {
      r.fail('open', 'open() must return an object with a write(batch) function')
      return []
    }
  } catch (err) {
    r.fail('open', `open() failed: ${describeError(err)}`)
    return []
  }
  r.pass('open', 'open(ctx) returned a writer')

  const b = writer.batching
  if (b === undefined) r.pass('batching', 'no batching given: the runtime default applies (1000 rows, 1 MB, 200 ms)')
  else if (!(Number.isInteger(b.rows) && b.rows >= 1 && b.bytes >= 1 && b.maxWaitMs >= 0)) r.fail('batching', `batching must have rows ≥ 1 (an integer), bytes ≥ 1 and maxWaitMs ≥ 0, got ${JSON.stringify(b)}`)
  else r.pass('batching', `batches of up to ${b.rows} rows, ${b.bytes} bytes, ${b.maxWaitMs} ms`)

  const write = async (records: JsonObject[], redelivered: boolean, tag: string): Promise<SinkWriteResult | void> =>
    withDeadline(`write() of ${records.length} records`, env.timeoutMs, () => writer.write({ records, ids: records.map((_, i) => `conformance:${tag}:1:${i + 1}`), redelivered }))

  try {
    const res = await write(env.records, false, 'sample')
    const problem = resultProblem(res, env.records, 'write', r)
    if (problem) r.fail('write', problem)
    else r.pass('write', `wrote a batch of ${env.records.length} records`)
  } catch (err) {
    r.fail('write', `write() failed: ${describeError(err)}`)
  }
  try {
    const res = await write(env.records, true, 'sample')
    const problem = resultProblem(res, env.records, 'write-redelivered', r)
    if (problem) r.fail('write-redelivered', problem)
    else r.pass('write-redelivered', 'wrote the same batch again, marked redelivered (the retry after a crash)')
  } catch (err) {
    r.fail('write-redelivered', `write() of a redelivered batch failed: ${describeError(err)}`)
  }
  try {
    const res = await write(ODD_RECORDS, false, 'odd')
    const problem = resultProblem(res, ODD_RECORDS, 'reject-to-dlq', r)
    if (problem) r.fail('reject-to-dlq', problem)
    else r.pass('reject-to-dlq', `records with missing fields, wrong types and nulls were written or rejected (${res?.rejected?.length ?? 0} to the DLQ)`)
  } catch (err) {
    r.fail('reject-to-dlq', `write() threw on unexpected records (${describeError(err)}); return { rejected: [{ index, reason }] } for records you cannot write, so they go to the dead-letter queue and the others are written`)
  }
  return [writer]
}

function resultProblem(res: SinkWriteResult | void, records: JsonObject[], check: string, r: Recorder): string | undefined {
  if (res === undefined || res === null) return undefined
  if (typeof res !== 'object') return `write() resolved with ${typeof res}; resolve with nothing, or with { rejected: [...] }`
  if (res.rejected === undefined) return undefined
  if (!Array.isArray(res.rejected)) return '`rejected` must be an array of { index, reason }'
  const seen = new Set<number>()
  for (const x of res.rejected) {
    if (!Number.isInteger(x?.index) || x.index < 0 || x.index >= records.length || seen.has(x.index)) return `rejected index ${JSON.stringify(x?.index)} is not the index of a record of the batch (0…${records.length - 1}, each once)`
    if (typeof x.reason !== 'string' || x.reason.trim() === '') return `rejected record ${x.index} has no reason`
    seen.add(x.index)
    r.dlq.push({ check, reason: x.reason, record: records[x.index] })
  }
  return undefined
}
