import type { NatsConnectionConfig } from '../pipeline/types.js'

/**
 * Credentials and TLS for a `--nats` / `NATS_URL` connection from the environment, under the names
 * the `nats` CLI uses: NATS_USER, NATS_PASSWORD, NATS_TOKEN, NATS_CREDS, NATS_NKEY (a seed file),
 * NATS_CA, NATS_CERT, NATS_KEY. What the URLs carry (user:pass@, token@) wins over NATS_USER /
 * NATS_PASSWORD / NATS_TOKEN. This is how a worker, which has no pipeline file, gets a creds file
 * or a client certificate. Pure, so tested without a server.
 */
export function withEnvAuth(cfg: NatsConnectionConfig, env: NodeJS.ProcessEnv): NatsConnectionConfig {
  const v = (name: string): string | undefined => (env[name]?.trim() ? env[name] : undefined)
  const out: NatsConnectionConfig = { ...cfg }
  if (out.user === undefined && out.token === undefined) {
    if (v('NATS_USER') !== undefined) {
      out.user = v('NATS_USER')
      if (v('NATS_PASSWORD') !== undefined) out.password = v('NATS_PASSWORD')
    } else if (v('NATS_TOKEN') !== undefined) out.token = v('NATS_TOKEN')
  }
  if (out.creds === undefined && v('NATS_CREDS') !== undefined) out.creds = v('NATS_CREDS')
  if (out.nkey === undefined && v('NATS_NKEY') !== undefined) out.nkey = v('NATS_NKEY')
  const tls = { ...(v('NATS_CA') ? { ca: v('NATS_CA') } : {}), ...(v('NATS_CERT') ? { cert: v('NATS_CERT') } : {}), ...(v('NATS_KEY') ? { key: v('NATS_KEY') } : {}) }
  if (out.tls === undefined && Object.keys(tls).length > 0) out.tls = tls
  return out
}
