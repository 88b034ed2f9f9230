/**
 * A plugin context without servers, for running plugin code outside a pipeline run: the
 * conformance suite and pipeline tests. State lives in memory; ClickHouse and NATS are not
 * available and say so when asked for.
 */
import type { JsonObject, JsonValue, Logger, PluginContext, SourceContext, StateStore } from '../plugin-api.js'
import { TributaryError } from '../errors.js'
import { celCompiler } from '../expr/cel.js'
import { noPluginMetrics } from '../metrics/plugin-metrics.js'

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error'
  msg: string
  fields?: object
}

/** A logger that keeps what the plugin logs (for a report), optionally passing it on. */
export function collectingLogger(forward?: Logger): Logger & { entries: LogEntry[] } {
  const entries: LogEntry[] = []
  const at = (level: LogEntry['level']) => (obj: object | string, msg?: string): void => {
    entries.push(typeof obj === 'string' ? { level, msg: obj } : { level, msg: msg ?? '', fields: obj })
    forward?.[level](obj, msg)
  }
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}

/** Stage state in memory; values are copied in and out as JSON, like the KV store does. */
export function memoryState(): StateStore {
  const m = new Map<string, string>()
  return {
    get: async (key) => {
      const v = m.get(key)
      return v === undefined ? undefined : (JSON.parse(v) as JsonValue)
    },
    put: async (key, value) => {
      m.set(key, JSON.stringify(value))
    },
  }
}

export interface StandaloneOptions {
  pipeline: string
  stageId: string
  config: JsonObject
  baseDir: string
  signal: AbortSignal
  logger: Logger
  state?: StateStore
  /** Names the situation in "not available" errors, e.g. `the conformance suite`. */
  where: string
}

export function standaloneContext(o: StandaloneOptions): PluginContext {
  const unavailable = (what: string) => async (): Promise<never> => {
    throw new TributaryError('E_PLUGIN', `${what} is not available in ${o.where}, which runs without servers`, { hint: 'test what needs a server in a pipeline run (`tributary run`) against one' })
  }
  return {
    pipeline: o.pipeline,
    stageId: o.stageId,
    config: o.config,
    logger: o.logger,
    signal: o.signal,
    baseDir: o.baseDir,
    state: o.state ?? memoryState(),
    expressions: celCompiler,
    clickhouse: unavailable('ClickHouse (ctx.clickhouse())'),
    nats: unavailable('NATS (ctx.nats())'),
    http: {
      url: undefined,
      route: () => {
        throw new TributaryError('E_PLUGIN', `the runtime's HTTP port (ctx.http) is not available in ${o.where}, which runs without servers`, { hint: 'test what serves clients in a pipeline run (`tributary run --metrics-port 0`)' })
      },
    },
    metrics: noPluginMetrics,
  }
}

export function standaloneSourceContext(o: StandaloneOptions, checkpoint: JsonValue | undefined): SourceContext {
  return { ...standaloneContext(o), checkpoint }
}
