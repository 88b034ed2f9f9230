import { parseBytes, parseDuration } from '../../core/plugin-api.js'

/** The sink's config as the manifest's schema gives it (validated, defaults applied, references resolved). */
export interface PushConfig {
  channel?: string
  tokens: string[] | Record<string, string>
  policy: 'drop-oldest' | 'disconnect'
  buffer: number
  ring: number
  history: { maxAge: string; maxMessages: number; maxBytes: string; replicas: number }
  port?: number
  host: string
  tls?: { cert: string; key: string }
  allowOrigins: string[]
  heartbeat: string
  timeout: string
}

export interface PushSettings {
  channel: string
  /** Token → team name (a list's tokens are named `token-1`, `token-2`, … in logs and metrics). */
  teams: Map<string, string>
  policy: 'drop-oldest' | 'disconnect'
  buffer: number
  ring: number
  history: { stream: string; subject: string; maxAgeMs: number; maxMessages: number; maxBytes: number; replicas: number }
  /** Own listener; absent: the runtime's HTTP port. */
  listen?: { port: number; host: string; tls?: { cert: string; key: string } }
  allowOrigins: string[]
  heartbeatMs: number
  timeoutMs: number
}

/**
 * Normalizes the config once, before anything connects (STYLE): names of the channel and of its
 * history stream, tokens by team, durations in ms. Throws on what the schema cannot express.
 */
export function pushSettings(cfg: PushConfig, pipeline: string, stageId: string): PushSettings {
  const teams = new Map<string, string>()
  const entries = Array.isArray(cfg.tokens) ? cfg.tokens.map((t, i) => [`token-${i + 1}`, t] as const) : Object.entries(cfg.tokens)
  for (const [team, token] of entries) {
    if (teams.has(token)) throw new Error(`tokens: ${team} has the same token as ${teams.get(token)}; give every team its own`)
    teams.set(token, team)
  }
  if (cfg.tls && cfg.port === undefined) throw new Error('tls needs `port`: the runtime\'s HTTP port is plain HTTP, so an HTTPS channel listens on a port of its own')
  return {
    channel: cfg.channel ?? stageId,
    teams,
    policy: cfg.policy,
    buffer: cfg.buffer,
    ring: cfg.ring,
    history: {
      // The pipeline's own stream captures `trib.<name>.>`: the history lives beside it, not in it.
      stream: `PUSH_${pipeline}--${stageId}`.toUpperCase(),
      subject: `trib-push.${pipeline}.${stageId}`,
      maxAgeMs: parseDuration(cfg.history.maxAge),
      maxMessages: cfg.history.maxMessages,
      maxBytes: parseBytes(cfg.history.maxBytes),
      replicas: cfg.history.replicas,
    },
    ...(cfg.port !== undefined ? { listen: { port: cfg.port, host: cfg.host, ...(cfg.tls ? { tls: cfg.tls } : {}) } } : {}),
    allowOrigins: cfg.allowOrigins,
    heartbeatMs: parseDuration(cfg.heartbeat),
    timeoutMs: parseDuration(cfg.timeout),
  }
}
