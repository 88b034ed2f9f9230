/**
 * The plugin context inside the isolated process: config, baseDir and expressions are local;
 * the logger and the stage's KV state go to the host over the frame channel; `signal` aborts when
 * the host drains. ClickHouse and NATS: only servers the plugin names, reached through the
 * network permission like any host. The home's embedded ClickHouse, the pipeline's own NATS
 * connection and the runtime's HTTP port live in the host and are not lent across the boundary;
 * the plugin's own metrics are (summed, once a second).
 */
import { TributaryError } from '../../errors.js'
import { celCompiler } from '../../expr/cel.js'
import type { ClickHouse, ClickHouseConnectionOptions, HttpRoutes, JsonValue, Logger, NatsConnectOptions, NatsHandle, PluginMetrics, SourceContext } from '../../plugin-api.js'
import { allowedBy } from '../host-rules.js'
import type { InitMessage } from '../types.js'
import { deniedConnectError } from './net-patch.js'

export interface HostChannel {
  log(level: 'debug' | 'info' | 'warn' | 'error', obj: object | string, msg?: string): void
  request(op: 'state.get' | 'state.put', key: string, value?: JsonValue): Promise<JsonValue | null>
}

/** The runtime's HTTP port stays in the host: an isolated plugin cannot serve routes on it. */
const NO_HTTP: HttpRoutes = {
  url: undefined,
  route() {
    throw new TributaryError('E_PERMISSION', 'an isolated plugin cannot serve routes on the runtime\'s HTTP port (ctx.http)', { hint: 'only built-in plugins serve clients on the runtime\'s port' })
  },
}

export function childContext(init: InitMessage, host: HostChannel, signal: AbortSignal, metrics: PluginMetrics): SourceContext {
  const logger: Logger = {
    debug: (obj, msg) => host.log('debug', obj, msg),
    info: (obj, msg) => host.log('info', obj, msg),
    warn: (obj, msg) => host.log('warn', obj, msg),
    error: (obj, msg) => host.log('error', obj, msg),
  }
  const rules = init.policy.network
  const checkUrl = (url: string): void => {
    const u = new URL(url.includes('://') ? url : `nats://${url}`)
    const port = Number(u.port || defaultPort(u.protocol))
    if (!allowedBy(rules, u.hostname, port)) throw deniedConnectError(u.hostname, port)
  }
  return {
    pipeline: init.plugin.pipeline,
    stageId: init.plugin.stage,
    config: init.config,
    logger,
    signal,
    baseDir: init.baseDir,
    checkpoint: init.checkpoint,
    expressions: celCompiler,
    http: NO_HTTP,
    metrics,
    state: {
      get: async (key) => (await host.request('state.get', key)) ?? undefined,
      put: async (key, value) => void (await host.request('state.put', key, value)),
    },
    async clickhouse(opts?: ClickHouseConnectionOptions): Promise<ClickHouse> {
      if (!opts?.url) {
        throw new TributaryError('E_PERMISSION', 'an isolated plugin cannot open the Tributary home\'s embedded ClickHouse', {
          hint: 'give `url` of a ClickHouse server (ctx.clickhouse({ url })) and declare its host:port in permissions.network',
        })
      }
      checkUrl(opts.url)
      const { openServer } = await import('../../clickhouse/server.js')
      return openServer(opts)
    },
    async nats(opts?: NatsConnectOptions): Promise<NatsHandle> {
      const servers = (Array.isArray(opts?.servers) ? opts.servers : (opts?.servers ?? '').split(',')).map((s) => s.trim()).filter(Boolean)
      if (servers.length === 0) {
        throw new TributaryError('E_PERMISSION', 'an isolated plugin cannot borrow the pipeline\'s own NATS connection', {
          hint: 'give `servers` (ctx.nats({ servers })) and declare their host:port in permissions.network',
        })
      }
      for (const s of servers) checkUrl(s)
      const { pluginNats } = await import('../../runtime/plugin-nats.js')
      return pluginNats(undefined as never, { ...opts, servers })
    },
  }
}

function defaultPort(protocol: string): number {
  return ({ 'http:': 80, 'https:': 443, 'nats:': 4222, 'tls:': 4222, 'ws:': 80, 'wss:': 443 } as Record<string, number>)[protocol] ?? 0
}
