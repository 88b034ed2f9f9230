import type { NatsConnectionConfig } from '../pipeline/types.js'
import { normalizeNatsConfig, parseServerList } from './server-list.js'
import { withEnvAuth } from './env-auth.js'

export interface ConfiguredNats {
  config: NatsConnectionConfig
  origin: 'flag' | 'env' | 'file'
}

/**
 * The configured part of the resolution order (DESIGN §6): `--nats` flag > `NATS_URL` >
 * the pipeline file's `nats` block. Undefined means none is configured: the caller falls back
 * to the home's `up` server, then a private one. Pure, so the order is unit-tested.
 */
export function chooseConfiguredNats(opts: { flag?: string; env?: NodeJS.ProcessEnv; fromFile?: NatsConnectionConfig }): ConfiguredNats | undefined {
  // Credentials and TLS files for a URL come from NATS_CREDS, NATS_CA... (env-auth.ts).
  if (opts.flag?.trim()) return { config: withEnvAuth(parseServerList(opts.flag), opts.env ?? {}), origin: 'flag' }
  const env = opts.env?.NATS_URL
  if (env?.trim()) return { config: withEnvAuth(parseServerList(env), opts.env ?? {}), origin: 'env' }
  if (opts.fromFile) return { config: normalizeNatsConfig(opts.fromFile), origin: 'file' }
  return undefined
}
