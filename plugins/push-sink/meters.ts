import type { PluginMetrics } from '../../core/plugin-api.js'

export interface PushMeters {
  connected(team: string, transport: string, delta: 1 | -1): void
  sent(team: string, n: number): void
  dropped(team: string, n: number): void
  slow(team: string): void
  unauthorized(): void
  resumed(n: number, from: 'memory' | 'stream'): void
  lost(n: number): void
}

/** The push sink's series on the runtime's /metrics (labelled pipeline and stage by the runtime). */
export function pushMeters(m: PluginMetrics): PushMeters {
  const clients = m.gauge('tributary_push_clients', 'Clients subscribed to a push channel', ['team', 'transport'])
  const sent = m.counter('tributary_push_records_sent_total', 'Records written to push clients', ['team'])
  const dropped = m.counter('tributary_push_dropped_total', 'Records a slow push client lost to policy drop-oldest (its buffer was full)', ['team'])
  const slow = m.counter('tributary_push_slow_disconnects_total', 'Push clients disconnected by policy disconnect (their buffer was full)', ['team'])
  const unauthorized = m.counter('tributary_push_unauthorized_total', 'Push subscriptions refused for a wrong or missing token (401)')
  const resumed = m.counter('tributary_push_resumed_records_total', 'Records from before a push client connected (Last-Event-ID, last=N), from memory or read back from the history stream', ['from'])
  const lost = m.counter('tributary_push_resume_lost_total', 'Records reconnecting push clients asked for that the history no longer held')
  return {
    connected: (team, transport, delta) => clients.inc({ team, transport }, delta),
    sent: (team, n) => n > 0 && sent.inc({ team }, n),
    dropped: (team, n) => dropped.inc({ team }, n),
    slow: (team) => slow.inc({ team }),
    unauthorized: () => unauthorized.inc(),
    resumed: (n, from) => resumed.inc({ from }, n),
    lost: (n) => lost.inc({}, n),
  }
}
