import type { KV } from '@nats-io/kv'
import type { NatsConnection } from '@nats-io/nats-core'
import type { ClickHouse, ClickHouseConnectionOptions, HttpRoutes, JsonValue, PluginContext, SourceContext } from '../plugin-api.js'
import type { PipelineSpec, StageSpec } from '../pipeline/types.js'
import type { Logger } from '../log/logger.js'
import { celCompiler } from '../expr/cel.js'
import { stageState } from '../jetstream/kv-state.js'
import { pluginNats } from './plugin-nats.js'
import { noRoutes } from '../http/routes.js'
import { noPluginMetrics } from '../metrics/plugin-metrics.js'
import type { RuntimeMetrics } from '../metrics/types.js'

export interface ContextDeps {
  spec: PipelineSpec
  kv: KV
  logger: Logger
  signal: AbortSignal
  openClickHouse(opts: ClickHouseConnectionOptions): Promise<ClickHouse>
  /** The pipeline's own connection, lent to plugins through `ctx.nats()`. */
  nc: NatsConnection
  /** The runtime's HTTP routes (`ctx.http`); absent: the runtime serves no HTTP port. */
  http?: HttpRoutes
  /** Where plugins' own series go (`ctx.metrics`); absent: nothing is measured. */
  metrics?: RuntimeMetrics
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
    nats: (opts) => pluginNats(deps.nc, opts, `tributary:${deps.spec.name}:${stage.id}`),
    http: deps.http ?? noRoutes,
    metrics: deps.metrics?.plugin?.(stage.id) ?? noPluginMetrics,
  }
}

export function sourceContext(deps: ContextDeps, stage: StageSpec, checkpoint: JsonValue | undefined): SourceContext {
  return { ...pluginContext(deps, stage), checkpoint }
}
