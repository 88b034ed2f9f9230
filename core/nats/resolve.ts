import type { NatsConnectionConfig } from '../pipeline/types.js'
import { chooseConfiguredNats } from './choose-nats.js'
import { acquireLocalServer } from './local-server.js'
import { runningCluster } from './local-cluster.js'
import type { LogLike, ResolvedNats } from './types.js'

export interface ResolveNatsOptions {
  /** `--nats` value: URL(s), comma-separated, may carry user:pass@ or token@. */
  flag?: string
  /** Read for `NATS_URL`. */
  env?: NodeJS.ProcessEnv
  /** The pipeline file's normalized `nats` block. */
  fromFile?: NatsConnectionConfig
  home: string
  log?: LogLike
}

/**
 * How every command finds NATS (DESIGN §6): `--nats` > `NATS_URL` > the pipeline file > the
 * home's `up` server > a private server on the home's store for the command's duration.
 * Call `release()` in `finally`: it stops a private server when this was its last user.
 */
export async function resolveNats(opts: ResolveNatsOptions): Promise<ResolvedNats> {
  const configured = chooseConfiguredNats(opts)
  if (configured) return { ...configured, release: async () => {} }
  // `up --cluster N` on this home: every node's URL, so the client fails over when one goes.
  const cluster = await runningCluster(opts.home)
  if (cluster) return { config: { servers: cluster.urls }, origin: 'up', release: async () => {} }
  const lease = await acquireLocalServer(opts.home, { log: opts.log })
  return { config: { servers: [lease.url] }, origin: lease.mode, release: () => lease.release() }
}
