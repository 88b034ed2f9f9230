import type { SinkDefinition, SinkWriter, TransformDefinition, TransformProcessor } from '../plugin-api.js'
import type { IsolationSpec, PipelineSpec, StageSpec } from '../pipeline/types.js'
import type { PluginRegistry } from '../plugins/types.js'
import { TributaryError } from '../errors.js'
import { stageState } from '../jetstream/kv-state.js'
import { pluginContext, type ContextDeps } from '../runtime/context.js'
import { callHook } from '../runtime/plugin-driver.js'
import { isolate } from '../isolation/isolate.js'

export interface OpenedStages {
  transforms: { spec: StageSpec; proc: TransformProcessor }[]
  sinks: { spec: StageSpec; writer: SinkWriter }[]
  close(): Promise<void>
}

async function load<T>(registry: PluginRegistry, stage: StageSpec, isolation?: IsolationSpec): Promise<T> {
  const entry = registry.get(stage.kind, stage.use)
  if (!entry) throw new TributaryError('E_PLUGIN', `no ${stage.kind} plugin named "${stage.use}" (stage ${stage.id})`, { hint: 'run `tributary plugins list` to see the installed plugins' })
  // As in the runtime: a community plugin runs sandboxed in its own process (core/isolation).
  return (entry.builtin ? await entry.load() : isolate(entry, isolation)) as T
}

/**
 * Opens every transform and sink of the pipeline for a replay, in file order, through the plugin
 * driver as the runtime does. Stage state lives under `stateScope` so a stateful stage rebuilds
 * its own state instead of overwriting the live pipeline's.
 */
export async function openStages(registry: PluginRegistry, deps: ContextDeps, spec: PipelineSpec, stateScope: string): Promise<OpenedStages> {
  const closers: (() => Promise<void>)[] = []
  const close = async (): Promise<void> => {
    for (const c of closers.reverse()) await c().catch((err: unknown) => deps.logger.warn({ err: (err as Error).message }, 'plugin close failed'))
    closers.length = 0
  }
  const ctx = (s: StageSpec) => ({ ...pluginContext(deps, s), state: stageState(deps.kv, `${stateScope}.${s.id}`) })
  try {
    const transforms = []
    for (const t of spec.transforms) {
      const def = await load<TransformDefinition<unknown>>(registry, t, spec.isolation)
      const proc = await callHook(t, 'open', () => def.open(ctx(t) as never))
      closers.push(() => callHook(t, 'close', () => proc.close?.()))
      transforms.push({ spec: t, proc })
    }
    const sinks = []
    for (const s of spec.sinks) {
      const def = await load<SinkDefinition<unknown>>(registry, s, spec.isolation)
      const writer = await callHook(s, 'open', () => def.open(ctx(s) as never))
      closers.push(() => callHook(s, 'close', () => writer.close?.()))
      sinks.push({ spec: s, writer })
    }
    return { transforms, sinks, close }
  } catch (err) {
    await close()
    throw err
  }
}
