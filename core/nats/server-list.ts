import { TributaryError } from '../errors.js'
import type { NatsConnectionConfig } from '../pipeline/types.js'

/**
 * NATS server lists as users write them: `nats://user:pass@h1:4222,h2:4222`, `token@host`, or
 * bare `host:port`. Credentials move out of the URLs into the config (the client ignores them in a
 * URL), so servers can be logged and shown in errors without leaking secrets.
 */

interface Credentials {
  user?: string
  password?: string
  token?: string
}

/** A `--nats` / `NATS_URL` value: comma-separated servers, credentials allowed in the URLs. */
export function parseServerList(value: string): NatsConnectionConfig {
  const config = withUrlCredentials(value.split(','))
  if (config.servers.length === 0) {
    throw new TributaryError('E_USAGE', `no NATS server in "${value}"`, { hint: 'give one or more URLs, comma-separated, e.g. nats://127.0.0.1:4222' })
  }
  return config
}

/** Moves URL credentials into the config; fields set explicitly win over the URLs' ones. */
export function normalizeNatsConfig(cfg: NatsConnectionConfig): NatsConnectionConfig {
  const fromUrls = withUrlCredentials(cfg.servers)
  const out: NatsConnectionConfig = { ...cfg, servers: fromUrls.servers }
  if (cfg.user === undefined && cfg.token === undefined) {
    if (fromUrls.user !== undefined) out.user = fromUrls.user
    if (fromUrls.password !== undefined) out.password = fromUrls.password
    if (fromUrls.token !== undefined) out.token = fromUrls.token
  }
  return out
}

function withUrlCredentials(list: readonly string[]): NatsConnectionConfig {
  const servers: string[] = []
  let creds: Credentials | undefined
  for (const raw of list.map((s) => s.trim()).filter(Boolean)) {
    const { server, credentials } = splitCredentials(raw)
    servers.push(server)
    if (!credentials) continue
    if (creds && !sameCredentials(creds, credentials)) {
      throw new TributaryError('E_USAGE', `the NATS URLs carry different credentials (${servers.join(', ')})`, { hint: 'put the same user:password (or token) in every URL, or in one only' })
    }
    creds = credentials
  }
  return { servers, ...creds }
}

function splitCredentials(raw: string): { server: string; credentials?: Credentials } {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)?(.*)$/i.exec(raw)!
  const scheme = m[1] ?? ''
  const rest = m[2] ?? ''
  const at = rest.lastIndexOf('@')
  if (at < 0) return { server: raw }
  const userinfo = rest.slice(0, at)
  const server = `${scheme}${rest.slice(at + 1)}`
  const colon = userinfo.indexOf(':')
  // nats convention: `user:pass@host` is user/password, `secret@host` is a token.
  if (colon < 0) return { server, credentials: { token: decode(userinfo) } }
  return { server, credentials: { user: decode(userinfo.slice(0, colon)), password: decode(userinfo.slice(colon + 1)) } }
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

function sameCredentials(a: Credentials, b: Credentials): boolean {
  return a.user === b.user && a.password === b.password && a.token === b.token
}
