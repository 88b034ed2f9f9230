import type { NatsConnection } from '@nats-io/nats-core'
import type { ClickHouse, ClickHouseConnectionOptions } from '../plugin-api.js'
import type { NatsConnectionConfig } from '../pipeline/types.js'
import type { PluginRegistry } from '../plugins/types.js'
import { createLogger, type Logger } from '../log/logger.js'
import { createRegistry, builtinPluginsDir } from '../plugins/registry.js'
import { resolveNats } from '../nats/resolve.js'
import { connectNats } from '../nats/connect.js'
import { ensureJetStream } from '../nats/jetstream-check.js'
import { openClickHouse } from '../clickhouse/open.js'
import { homePaths } from '../home/paths.js'
import { refreshApiLink } from '../plugins/store/api-link.js'

export interface SessionOptions {
  home: string
  /** --nats flag value. */
  nats?: string
  env?: NodeJS.ProcessEnv
  secrets?: readonly string[]
}

export interface NatsHandle {
  nc: NatsConnection
  origin: string
}

/** Built-in plugins plus the community plugins installed in the home. */
export async function openRegistry(home: string): Promise<PluginRegistry> {
  const plugins = homePaths(home).plugins
  // Installed plugins import `tributary/plugin` through a link to this install: repoint it if Tributary moved.
  await refreshApiLink(plugins)
  return createRegistry({ builtinDir: builtinPluginsDir(), extraDirs: [plugins] })
}

/**
 * What a command needs from the environment, resolved one way for every command (DESIGN §6):
 * logger, plugins, NATS (flag, NATS_URL, file, `up` server, else a private server for the
 * command's duration) and ClickHouse (url, CLICKHOUSE_URL, else embedded in the home).
 * `close()` releases all of it, private server included.
 */
export class Session {
  readonly logger: Logger
  private registryP: Promise<PluginRegistry> | undefined
  private readonly cleanups: (() => Promise<void>)[] = []
  private readonly env: NodeJS.ProcessEnv

  constructor(readonly opts: SessionOptions) {
    this.env = opts.env ?? process.env
    this.logger = createLogger({ secrets: opts.secrets })
  }

  get home(): string {
    return this.opts.home
  }

  registry(): Promise<PluginRegistry> {
    this.registryP ??= openRegistry(this.home)
    return this.registryP
  }

  async nats(fromFile?: NatsConnectionConfig): Promise<NatsHandle> {
    const resolved = await resolveNats({ flag: this.opts.nats, env: this.env, fromFile, home: this.home, log: this.logger })
    this.cleanups.push(() => resolved.release())
    const nc = await connectNats(resolved.config, { name: 'tributary' })
    this.cleanups.push(async () => {
      await nc.drain().catch(() => nc.close())
    })
    // A server without -js fails here with the fix, not later with a timeout.
    await ensureJetStream(nc)
    this.logger.debug({ origin: resolved.origin, servers: resolved.config.servers }, 'connected to NATS')
    return { nc, origin: resolved.origin }
  }

  /** Server when `url` (or CLICKHOUSE_URL) is set, embedded chDB in the home otherwise. */
  async clickhouse(opts: ClickHouseConnectionOptions = {}): Promise<ClickHouse> {
    const url = opts.url ?? (this.env.CLICKHOUSE_URL || undefined)
    return openClickHouse({ ...opts, url, home: this.home })
  }

  async close(): Promise<void> {
    for (const c of this.cleanups.reverse()) {
      await c().catch((err: unknown) => this.logger.warn({ err: (err as Error).message }, 'cleanup failed'))
    }
    this.cleanups.length = 0
    this.logger.flush?.()
  }
}
