import type { KV } from '@nats-io/kv'
import type { ClickHouse, ClickHouseConnectionOptions, JsonValue, PluginContext, SourceContext } from '../plugin-api.js'
import type { PipelineSpec, StageSpec } from '../pipeline/types.js'
import type { Logger } from '../log/logger.js'
import { celCompiler } from '../expr/cel.js'
import { stageState } from '../jetstream/kv-state.js'

export interface ContextDeps {
  spec: PipelineSpec
  kv: KV
  logger: Logger
  signal: AbortSignal
  openClickHouse(opts: ClickHouseConnectionOptions): Promise<ClickHouse>
}

/** The typed context a plugin sees: its validated config and the few services it may use. */
export function pluginContext(deps: ContextDeps, stage: StageSpec): PluginContext {
  return {
    pipeline: deps.spec.name,
    stageId: stage.id,
    config: stage.config,
    logger: deps.logger.child({ stage: stage.id, plugin: stage.use }),
    signal: deps.signal,
    baseDir: deps.spec.baseDir,
    state: stageState(deps.kv, stage.id),
    expressions: celCompiler,
    clickhouse: (opts) => deps.openClickHouse(opts ?? {}),
  }
}

export function sourceContext(deps: ContextDeps, stage: StageSpec, checkpoint: JsonValue | undefined): SourceContext {
  return { ...pluginContext(deps, stage), checkpoint }
}
