import type { JsonObject, JsonValue, PluginContext, SourceContext } from '../../plugin-api.js'
import type { PluginManifest } from '../types.js'
import { collectingLogger, standaloneContext, standaloneSourceContext, type LogEntry } from '../standalone-context.js'
import type { Logger } from '../../plugin-api.js'

/** What the kind-specific checks get: the plugin's manifest, its config, records, and fresh contexts. */
export interface SuiteEnv {
  manifest: PluginManifest
  config: JsonObject
  records: JsonObject[]
  timeoutMs: number
  /** A context for one opened instance; every instance's signal is aborted at the end. */
  context(): PluginContext
  sourceContext(checkpoint: JsonValue | undefined): SourceContext
  log: LogEntry[]
  abortAll(): void
}

export function suiteEnv(manifest: PluginManifest, config: JsonObject, records: JsonObject[], timeoutMs: number, baseDir: string, forward?: Logger): SuiteEnv {
  const logger = collectingLogger(forward)
  const controllers: AbortController[] = []
  const options = () => {
    const ac = new AbortController()
    controllers.push(ac)
    return { pipeline: 'conformance', stageId: manifest.name.replace(/^@[^/]+\//, ''), config: structuredClone(config), baseDir, signal: ac.signal, logger, where: 'the conformance suite' }
  }
  return {
    manifest,
    config,
    records,
    timeoutMs,
    context: () => standaloneContext(options()),
    sourceContext: (checkpoint) => standaloneSourceContext(options(), checkpoint),
    log: logger.entries,
    abortAll: () => controllers.forEach((c) => c.abort()),
  }
}
