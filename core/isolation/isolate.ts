/**
 * `isolate(entry)`: a community plugin as a PluginDefinition whose hooks run in a sandboxed
 * child process (sandbox-command.ts) — the runtime cannot tell it from an in-process plugin.
 * Each stage gets its own process and its own network proxy; one frame per hook call, so a
 * batch crosses the boundary as one message. Crashes and hangs are the supervisor's business:
 * a transform's or sink's failed call goes back to the runtime (its batch is retried or
 * redelivered), a source's read is retried after the restart, from the last batch handed over.
 */
import { keyed, reject, type JsonObject, type JsonValue, type PluginContext, type PluginDefinition, type RecordMeta, type SinkBatch, type SinkWriter, type SinkWriteResult, type SourceBatch, type SourceContext, type SourceItem, type SourceReader, type StatefulTransformProcessor, type TransformResult } from '../plugin-api.js'
import type { PluginEntry } from '../plugins/types.js'
import { acceptedPermissions } from './accepted.js'
import { prepareSandbox } from './sandbox.js'
import { PluginProcess } from './plugin-process.js'
import { Supervisor } from './supervisor.js'
import { DEFAULT_ISOLATION, type EncodedKeyed, type EncodedResults, type EncodedSourceBatch, type IsolationSettings, type OpenedInfo } from './types.js'

export function isolate(entry: PluginEntry, settings: IsolationSettings = DEFAULT_ISOLATION): PluginDefinition {
  return { kind: entry.manifest.kind, open: (ctx: PluginContext) => openIsolated(entry, settings, ctx as SourceContext) } as PluginDefinition
}

async function openIsolated(entry: PluginEntry, settings: IsolationSettings, ctx: SourceContext): Promise<unknown> {
  const m = entry.manifest
  const who = `plugin "${m.name}" (${m.kind}, stage ${ctx.stageId})`
  const sandbox = await prepareSandbox(entry, await acceptedPermissions(entry), { who, baseDir: ctx.baseDir, config: ctx.config, logger: ctx.logger, namespaces: settings.namespaces })
  let checkpoint = ctx.checkpoint

  const start = async (): Promise<{ proc: PluginProcess; opened: OpenedInfo }> => {
    const proc = new PluginProcess({ ...sandbox.spawn, who, logger: ctx.logger, state: ctx.state, metrics: ctx.metrics, hookTimeoutMs: settings.hookTimeoutMs })
    try {
      const opened = await proc.init({
        ...sandbox.init,
        plugin: { name: m.name, kind: m.kind, stage: ctx.stageId, pipeline: ctx.pipeline },
        baseDir: ctx.baseDir,
        config: ctx.config,
        ...(checkpoint !== undefined ? { checkpoint } : {}),
      })
      return { proc, opened }
    } catch (err) {
      proc.kill('its plugin failed to open')
      await proc.exited
      throw err
    }
  }
  const sup = new Supervisor({
    who,
    stage: ctx.stageId,
    logger: ctx.logger,
    restarts: settings.restarts,
    restartable: m.stateful !== true,
    start,
    started: (p) => ctx.signal.aborted && p.notify({ t: 'abort' }),
  })
  ctx.signal.addEventListener('abort', () => sup.notify({ t: 'abort' }), { once: true })
  let opened: OpenedInfo
  try {
    opened = await sup.open()
  } catch (err) {
    await sandbox.release()
    throw err
  }
  const close = async (): Promise<void> => {
    try {
      await sup.close(opened.hooks.includes('close'))
    } finally {
      await sandbox.release()
    }
  }

  if (m.kind === 'source') {
    const reader: SourceReader = {
      async read() {
        for (;;) {
          let enc: EncodedSourceBatch
          const generation = sup.generation
          try {
            enc = (await sup.call('read', [])) as EncodedSourceBatch
          } catch (err) {
            // What the dead process was reading was never handed over: read it again from the restarted one.
            if ((err as { code?: string }).code === 'E_PLUGIN_CRASHED') continue
            throw err
          }
          if (enc.checkpoint !== undefined) checkpoint = enc.checkpoint
          const batch: SourceBatch = { items: enc.items as unknown as SourceItem[], ...(enc.checkpoint !== undefined ? { checkpoint: enc.checkpoint } : {}), ...(enc.done ? { done: true } : {}), ...(enc.failWhenFull ? { failWhenFull: true } : {}) }
          const settle = enc.settle
          if (settle !== undefined) {
            batch.settled = (r) => sup.notify({ t: 'settled', batch: settle, ok: r.ok, ...(r.ok ? {} : { error: r.error.message, backpressure: r.backpressure }) }, generation)
          }
          return batch
        }
      },
      close,
    }
    return reader
  }
  if (m.kind === 'sink') {
    const writer: SinkWriter = {
      ...(opened.batching ? { batching: opened.batching } : {}),
      async write(batch: SinkBatch) {
        const res = (await sup.call('write', [{ records: batch.records as JsonObject[], ids: batch.ids as string[], redelivered: batch.redelivered }])) as SinkWriteResult | null
        return res ?? undefined
      },
      close,
    }
    return writer
  }
  const proc: Partial<StatefulTransformProcessor> & Pick<StatefulTransformProcessor, 'process'> = {
    async process(records: readonly JsonObject[], meta?: readonly RecordMeta[]) {
      const args: JsonValue[] = meta ? [records as JsonObject[], meta as unknown as JsonValue] : [records as JsonObject[]]
      return decodeResults((await sup.call('process', args)) as EncodedResults)
    },
    close,
  }
  // Stateful hooks answer asynchronously across the boundary; the runtime awaits every hook.
  const has = (h: string): boolean => opened.hooks.includes(h as never)
  if (has('snapshot')) proc.snapshot = (() => sup.call('snapshot', [])) as never
  if (has('restore')) proc.restore = async (state: JsonValue) => void (await sup.call('restore', [state]))
  if (has('tick')) proc.tick = (async (wm: number) => decodeKeyed((await sup.call('tick', [wm])) as EncodedKeyed)) as never
  if (has('finish')) proc.finish = (async () => decodeKeyed((await sup.call('finish', [])) as EncodedKeyed)) as never
  return proc
}

function decodeResults(enc: EncodedResults): TransformResult[] {
  const results: TransformResult[] = enc.results
  for (const [i, reason] of enc.rejects ?? []) results[i] = reject(reason)
  return results
}

function decodeKeyed(enc: EncodedKeyed): JsonObject[] {
  return enc.records.map((r, i) => (enc.keys[i] ? keyed(r, enc.keys[i]!) : r))
}
