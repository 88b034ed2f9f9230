import type { JsonValue, SourceBatch, SourceDefinition, SourceReader } from '../../plugin-api.js'
import { HookTimeout, describeError, notJson, withDeadline } from './hooks.js'
import type { Recorder } from './recorder.js'
import type { SuiteEnv } from './env.js'

const READS = 3

/**
 * A source's batches hold well-formed items (a record, its JSON, or an error that goes to the
 * DLQ) with increasing offsets and a JSON checkpoint, and a reader opened at a checkpoint
 * resumes after it. A read that waits for input (a push source with no client) is noted, not
 * failed.
 */
export async function checkSource(def: SourceDefinition<unknown>, env: SuiteEnv, r: Recorder): Promise<SourceReader[]> {
  const readers: SourceReader[] = []
  const open = async (checkpoint: JsonValue | undefined): Promise<SourceReader | undefined> => {
    try {
      const reader = await withDeadline('open()', env.timeoutMs, () => def.open(env.sourceContext(checkpoint) as never))
      if (!reader || typeof reader.read !== 'function') {
        r.fail('open', 'open() must return an object with a read() function')
        return undefined
      }
      readers.push(reader)
      return reader
    } catch (err) {
      r.fail('open', `open() failed: ${describeError(err)}`)
      return undefined
    }
  }
  const reader = await open(undefined)
  if (!reader) return readers
  r.pass('open', 'open(ctx) returned a reader')

  const batches: SourceBatch[] = []
  let last = -Infinity
  try {
    for (let i = 0; i < READS; i++) {
      const batch = await withDeadline('read()', env.timeoutMs, () => reader.read())
      const problem = batchProblem(batch, last, r)
      if (problem) {
        r.fail('read', `batch ${i + 1}: ${problem}`)
        return readers
      }
      batches.push(batch)
      if (batch.items.length) last = batch.items[batch.items.length - 1]!.offset
      if (batch.done) break
    }
    const items = batches.reduce((n, b) => n + b.items.length, 0)
    r.pass('read', `${batches.length} ${batches.length === 1 ? 'batch' : 'batches'}, ${items} items with increasing offsets${batches.at(-1)?.done ? ', then end of input' : ''}`)
  } catch (err) {
    if (err instanceof HookTimeout) r.warn('read', `read() waited more than ${env.timeoutMs} ms for input (a push source waits for its clients): batches not checked`)
    else r.fail('read', `read() failed: ${describeError(err)}`)
    return readers
  }

  const first = batches[0]!
  if (first.checkpoint === undefined || first.items.length === 0) r.skip('resume', 'the first batch had no checkpoint: nothing to resume from')
  else {
    const again = await open(first.checkpoint)
    if (again) {
      try {
        const next = await withDeadline('read() after a checkpoint', env.timeoutMs, () => again.read())
        const upTo = first.items[first.items.length - 1]!.offset
        const repeated = next.items.find((it) => it.offset <= upTo)
        if (repeated) r.fail('resume', `opened at the first batch's checkpoint, read() returned offset ${repeated.offset} again (the batch ended at ${upTo}): a restart would re-read acknowledged records`)
        else r.pass('resume', `opened at checkpoint ${JSON.stringify(first.checkpoint)}, reading resumed after offset ${upTo}`)
      } catch (err) {
        if (err instanceof HookTimeout) r.warn('resume', `read() after a checkpoint waited more than ${env.timeoutMs} ms for input`)
        else r.fail('resume', `read() after a checkpoint failed: ${describeError(err)}`)
      }
    }
  }
  return readers
}

function batchProblem(batch: SourceBatch, after: number, r: Recorder): string | undefined {
  if (!batch || !Array.isArray(batch.items)) return 'read() must resolve with { items: [...] }'
  if (batch.done !== undefined && typeof batch.done !== 'boolean') return '`done` must be a boolean'
  const why = notJson(batch.checkpoint === undefined ? null : batch.checkpoint, 'checkpoint')
  if (why) return `${why}: checkpoints are stored as JSON`
  let prev = after
  for (const [i, it] of batch.items.entries()) {
    if (typeof it?.offset !== 'number' || !Number.isFinite(it.offset)) return `item ${i} has no numeric offset`
    if (it.offset <= prev) return `item ${i} has offset ${it.offset}, not above the previous ${prev}: offsets must increase (they make message ids)`
    prev = it.offset
    if (it.error !== undefined) {
      if (typeof it.error !== 'string' || it.error === '') return `item ${i} has an empty error`
      r.dlq.push({ check: 'read', reason: it.error, record: it.raw })
      continue
    }
    if (it.value !== undefined) {
      if (it.value === null || typeof it.value !== 'object' || Array.isArray(it.value)) return `item ${i}: value must be a record (a JSON object)`
      const bad = notJson(it.value, `item ${i}.value`)
      if (bad) return bad
      continue
    }
    if (typeof it.json !== 'string') return `item ${i} has no value, json or error`
    let parsed: unknown
    try {
      parsed = JSON.parse(it.json)
    } catch {
      return `item ${i}: json is not valid JSON (give it as an error item instead, so it goes to the DLQ)`
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return `item ${i}: json must hold a JSON object`
  }
  return undefined
}
