/**
 * `tributary test FILE`: runs a pipeline's transforms over each test's input records without
 * servers, the way the runtime would — consuming groups in topology order, split/drop/reject
 * semantics, a throwing batch isolated record by record, sinks' `where` routing, JSON between
 * groups — and compares what leaves the transforms, what each sink gets and what goes to the
 * dead-letter queue with what the test expects. Sources are not run and sinks not written.
 */
import { isRejection, type JsonObject, type Logger, type TransformDefinition, type TransformProcessor, type TransformResult } from '../plugin-api.js'
import { TributaryError, errorMessage } from '../errors.js'
import type { PluginRegistry } from '../plugins/types.js'
import type { PipelineSpec, StageSpec } from '../pipeline/types.js'
import { loadPipeline } from '../pipeline/load.js'
import { compileTopology, type StageGroup } from '../runtime/topology.js'
import { callHook } from '../runtime/plugin-driver.js'
import { isolate } from '../isolation/isolate.js'
import { celCompiler } from '../expr/cel.js'
import { collectingLogger, memoryState, standaloneContext } from '../plugins/standalone-context.js'
import { readTestFile, testFileFor } from './fixture.js'
import { diffRecords } from './diff.js'
import type { DlqEntry, ExpectedDlq, PipelineTestCase, PipelineTestReport, PipelineTestResult, TestRunOutput } from './types.js'

export interface PipelineTestOptions {
  env?: NodeJS.ProcessEnv
  /** Where plugins' log lines go (default: kept quiet). */
  logger?: Logger
}

export async function runPipelineTests(file: string, registry: PluginRegistry, opts: PipelineTestOptions = {}): Promise<PipelineTestReport> {
  const tf = await readTestFile(testFileFor(file))
  const spec = await loadPipeline(tf.pipeline, registry, { env: { ...(opts.env ?? process.env), ...tf.env } })
  const groups = compileTopology(spec, (s) => registry.get(s.kind, s.use)?.manifest.stateful === true).groups
  const tests: PipelineTestResult[] = []
  for (const t of tf.tests) {
    let actual: TestRunOutput
    try {
      actual = await runCase(spec, groups, registry, t, opts.logger)
    } catch (err) {
      tests.push({ name: t.name, ok: false, error: errorMessage(err), differences: [] })
      continue
    }
    const differences = compare(spec, t, actual)
    tests.push({ name: t.name, ok: differences.length === 0, differences, actual })
  }
  const passed = tests.filter((t) => t.ok).length
  return { file: tf.file, pipeline: spec.name, ok: passed === tests.length, passed, failed: tests.length - passed, tests }
}

interface Item {
  record: JsonObject
  /** The record as it entered the group: what a dead letter carries. */
  origin: JsonObject
}

const viaJson = (r: JsonObject): JsonObject => JSON.parse(JSON.stringify(r)) as JsonObject

async function runCase(spec: PipelineSpec, groups: StageGroup[], registry: PluginRegistry, t: PipelineTestCase, logger?: Logger): Promise<TestRunOutput> {
  const ac = new AbortController()
  const procs = new Map<string, TransformProcessor>()
  const out: TestRunOutput = { outputs: [], sinks: Object.fromEntries(spec.sinks.map((s) => [s.id, []])), dlq: [] }
  try {
    // Every test opens the transforms afresh, so state never leaks from one test into the next.
    for (const s of spec.transforms) {
      const entry = registry.get('transform', s.use)!
      // As in the runtime: a community plugin runs sandboxed in its own process (core/isolation).
      const def = (entry.builtin ? await entry.load() : isolate(entry, spec.isolation)) as TransformDefinition<unknown>
      const ctx = standaloneContext({ pipeline: spec.name, stageId: s.id, config: s.config, baseDir: spec.baseDir, signal: ac.signal, logger: collectingLogger(logger), state: memoryState(), where: '`tributary test`' })
      procs.set(s.id, await callHook(s, 'open', () => def.open(ctx as never)))
    }
    let current = t.input.map(viaJson)
    for (const g of groups) {
      let items: Item[] = current.map((r) => ({ record: viaJson(r), origin: viaJson(r) }))
      const failed = new Map<JsonObject, string>()
      for (const s of g.transforms) {
        if (items.length === 0) break
        const results = await processIsolated(s, procs.get(s.id)!, items, failed)
        const next: Item[] = []
        results.forEach((r, i) => {
          const it = items[i]!
          if (r === null || r === undefined || failed.has(it.origin)) return
          if (isRejection(r)) out.dlq.push({ stage: s.id, code: 'E_REJECTED', reason: r.reason, record: it.origin })
          else for (const rec of Array.isArray(r) ? r : [r]) next.push({ record: rec, origin: it.origin })
        })
        items = next
      }
      // As the runtime does after its retries: a record that failed every try is dead-lettered by the group.
      for (const [origin, reason] of failed) out.dlq.push({ stage: g.transforms[0]!.id, code: 'E_MAX_DELIVER', reason, record: origin })
      items = items.filter((it) => !failed.has(it.origin))
      for (const s of g.sinks) routeToSink(s, items, out)
      if (g.transforms.length > 0) current = items.map((it) => it.record)
    }
    out.outputs = current.map(viaJson)
    return out
  } finally {
    for (const [id, p] of procs) await callHook(spec.transforms.find((s) => s.id === id)!, 'close', () => p.close?.())
    ac.abort()
  }
}

/** A plugin broke the batch contract: the runtime stops the pipeline, so the test stops too. */
class ContractError extends TributaryError {}

/** process() on the batch; if it throws, record by record, so one bad record fails alone. */
async function processIsolated(s: StageSpec, proc: TransformProcessor, items: Item[], failed: Map<JsonObject, string>): Promise<TransformResult[]> {
  const check = (results: TransformResult[], n: number): TransformResult[] => {
    if (!Array.isArray(results) || results.length !== n) {
      throw new ContractError('E_PLUGIN', `plugin "${s.use}" (transform, stage ${s.id}) returned ${Array.isArray(results) ? results.length : typeof results} results for ${n} records`, { hint: 'process() must return exactly one result per input record' })
    }
    return results
  }
  try {
    return check(await callHook(s, 'process', () => proc.process(items.map((it) => it.record))), items.length)
  } catch (err) {
    if (err instanceof ContractError) throw err
  }
  const results: TransformResult[] = new Array(items.length).fill(null)
  for (let i = 0; i < items.length; i++) {
    if (failed.has(items[i]!.origin)) continue
    try {
      results[i] = check(await callHook(s, 'process', () => proc.process([items[i]!.record])), 1)[0]!
    } catch (e) {
      if (e instanceof ContractError) throw e
      failed.set(items[i]!.origin, errorMessage(e))
    }
  }
  return results
}

function routeToSink(s: StageSpec, items: Item[], out: TestRunOutput): void {
  const where = s.where ? celCompiler.compile(s.where) : undefined
  for (const it of items) {
    if (where) {
      let pass: boolean
      try {
        pass = where.test(it.record)
      } catch (err) {
        out.dlq.push({ stage: s.id, code: 'E_EXPR', reason: errorMessage(err), record: it.origin })
        continue
      }
      if (!pass) continue
    }
    out.sinks[s.id]!.push(viaJson(it.record))
  }
}

function compare(spec: PipelineSpec, t: PipelineTestCase, actual: TestRunOutput): { what: string; diff: string }[] {
  const diffs: { what: string; diff: string }[] = []
  const add = (what: string, d: string | undefined): void => {
    if (d) diffs.push({ what, diff: d })
  }
  if (t.expect) add('records leaving the transforms', diffRecords(t.expect, actual.outputs))
  for (const [id, expected] of Object.entries(t.expectSinks ?? {})) {
    if (!(id in actual.sinks)) add(`sink ${id}`, `the pipeline has no sink with id "${id}" (its sinks: ${spec.sinks.map((s) => s.id).join(', ')})`)
    else add(`records reaching sink ${id}`, diffRecords(expected, actual.sinks[id]!))
  }
  add('dead-letter queue', diffRecords(t.expectDlq, projectDlq(t.expectDlq, actual.dlq)))
  return diffs
}

/**
 * Actual entries shown with the fields the expected entry at the same position names, so the
 * diff is about those; a reason that contains the expected text counts as equal to it.
 */
function projectDlq(expected: ExpectedDlq[], actual: DlqEntry[]): object[] {
  return actual.map((a, i) => {
    const e = expected[i]
    if (!e) return { stage: a.stage, code: a.code, reason: a.reason, record: a.record }
    return {
      stage: a.stage,
      ...(e.code !== undefined ? { code: a.code } : {}),
      ...(e.reason !== undefined ? { reason: a.reason.includes(e.reason) ? e.reason : a.reason } : {}),
      ...(e.record !== undefined ? { record: a.record } : {}),
    }
  })
}
