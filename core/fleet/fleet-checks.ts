import { TributaryError } from '../errors.js'
import type { PipelineSpec, StageSpec } from '../pipeline/types.js'
import type { PluginRegistry } from '../plugins/types.js'

/**
 * Config fields a plugin's schema marks `"x-clickhouse-url": true` name the ClickHouse server it
 * talks to; unset, the plugin falls back to embedded chDB in the worker's home.
 */
function clickhouseUrlFields(registry: PluginRegistry, stage: StageSpec): string[] {
  const props = (registry.get(stage.kind, stage.use)?.manifest.config as { properties?: Record<string, { 'x-clickhouse-url'?: boolean }> }).properties ?? {}
  return Object.entries(props)
    .filter(([, p]) => p['x-clickhouse-url'] === true)
    .map(([name]) => name)
}

/**
 * What a single `run` may do but a fleet may not. Embedded ClickHouse (chDB) lets one process own
 * a data directory (FACTS): workers on one host would fight over it, and workers on several hosts
 * would each write a private database that no query sees whole. In a fleet ClickHouse is a server.
 */
export function checkFleetSpec(spec: PipelineSpec, registry: PluginRegistry): void {
  for (const stage of [spec.source, ...spec.transforms, ...spec.sinks]) {
    const fields = clickhouseUrlFields(registry, stage)
    if (fields.length === 0 || fields.some((f) => typeof stage.config[f] === 'string' && stage.config[f] !== '')) continue
    throw new TributaryError('E_FLEET', `stage ${stage.id} (${stage.kind} ${stage.use}) would use embedded ClickHouse (chDB): in a fleet, several workers would share one chDB directory, which one process at a time can own`, {
      hint: `ClickHouse in a fleet is a server: set \`${fields[0]}\` in ${stage.path}.config (e.g. ${fields[0]}: "\${env:CLICKHOUSE_URL}", resolved on each worker)`,
    })
  }
}

/** Whether the source runs on one worker at a time (under a lease) or on every worker. */
export function sourceRunsOnEveryWorker(spec: PipelineSpec, registry: PluginRegistry): boolean {
  return registry.get('source', spec.source.use)?.manifest.instances === 'per-worker'
}
