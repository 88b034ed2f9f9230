/**
 * The plugin test kit, exported as `tributary/testing` for a plugin's own tests (the package
 * `plugins new` writes uses it): the conformance suite, and a transform run on records without
 * servers.
 */
import path from 'node:path'
import { isRejection, type JsonObject, type TransformDefinition } from './plugin-api.js'
import { TributaryError, ValidationError } from './errors.js'
import { compileSchema } from './schema/ajv.js'
import { ajvIssues } from './schema/issues.js'
import { formatPath } from './config/json-path.js'
import { resolveConfigPaths } from './config/paths.js'
import { readPlugin } from './plugins/registry.js'
import { collectingLogger, standaloneContext, type LogEntry } from './plugins/standalone-context.js'

export { runConformance } from './plugins/conformance/run.js'
export { formatConformanceReport } from './plugins/conformance/format.js'
export type { CheckResult, CheckStatus, ConformanceOptions, ConformanceReport, DlqMarker } from './plugins/conformance/types.js'

export interface TransformRun {
  /** Every output record, in order (a split input gives several, a dropped one none). */
  outputs: JsonObject[]
  /** Inputs the plugin rejected: they would go to the dead-letter queue. */
  dlq: { index: number; reason: string }[]
  /** Inputs dropped (a null result). */
  dropped: number[]
  log: LogEntry[]
}

/**
 * Opens the transform in `dir` with `config` (defaults from its schema applied, as in a
 * pipeline), processes `records` as one batch, and closes it.
 */
export async function runTransform(dir: string, records: JsonObject[], opts: { config?: JsonObject } = {}): Promise<TransformRun> {
  const entry = await readPlugin(path.resolve(dir), false)
  if (entry.manifest.kind !== 'transform') throw new TributaryError('E_USAGE', `${dir} holds a ${entry.manifest.kind} plugin, not a transform`)
  const def = (await entry.load()) as TransformDefinition<unknown>
  const config = structuredClone(opts.config ?? {})
  const validate = compileSchema(entry.manifest.config)
  if (!validate(config)) {
    const issues = ajvIssues(validate.errors, config).map((i) => ({ path: formatPath(i.at), message: i.message }))
    throw new ValidationError(`the config of ${entry.manifest.name}`, issues)
  }
  const logger = collectingLogger()
  const ac = new AbortController()
  const ctx = standaloneContext({ pipeline: 'test', stageId: entry.manifest.name, config: resolveConfigPaths(config, entry.manifest.config, process.cwd()), baseDir: process.cwd(), signal: ac.signal, logger, where: 'runTransform()' })
  const proc = await def.open(ctx as never)
  try {
    const results = await proc.process(records)
    const out: TransformRun = { outputs: [], dlq: [], dropped: [], log: logger.entries }
    results.forEach((r, index) => {
      if (r === null || r === undefined) out.dropped.push(index)
      else if (isRejection(r)) out.dlq.push({ index, reason: r.reason })
      else out.outputs.push(...(Array.isArray(r) ? r : [r]))
    })
    return out
  } finally {
    await proc.close?.()
    ac.abort()
  }
}
