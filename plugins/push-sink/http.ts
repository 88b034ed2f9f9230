import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer } from 'ws'
import type { ExpressionCompiler, HttpRouteHandler, Logger } from '../../core/plugin-api.js'
import type { PushSettings } from './config.js'
import type { Channel } from './channel.js'
import type { PushMeters } from './meters.js'
import type { Transport } from './transport.js'
import { authenticator } from './auth.js'
import { parseSubscription, type Subscription } from './subscription.js'
import { Subscriber } from './subscriber.js'
import { sseTransport } from './sse.js'
import { wsTransport } from './websocket.js'
import { viewPage } from './view-page.js'

export interface HandlerDeps {
  settings: PushSettings
  channel: Channel
  expressions: ExpressionCompiler
  meters: PushMeters
  logger: Logger
}

/** Reconnect delay an EventSource is told to use. */
const RETRY_MS = 2000

/**
 * The channel's HTTP side, under `/push/<channel>`: GET subscribes with Server-Sent Events, an
 * Upgrade subscribes with WebSocket, `/view` is the live page. Every subscription is checked in
 * the same order: path, token (401), subscription parameters (400).
 */
export function channelHandler(d: HandlerDeps): HttpRouteHandler & { close(): void } {
  const base = `/push/${d.settings.channel}`
  const auth = authenticator(d.settings.teams)
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 })

  const cors = (req: IncomingMessage): Record<string, string> => {
    const origin = req.headers.origin
    const allowed = d.settings.allowOrigins
    if (!origin || allowed.length === 0) return {}
    if (allowed.includes('*')) return { 'access-control-allow-origin': '*' }
    return allowed.includes(origin) ? { 'access-control-allow-origin': origin, vary: 'Origin' } : {}
  }

  /** Token and parameters; an answer (status and sentence) when the subscription is refused. */
  const admit = (req: IncomingMessage, url: URL): { team: string; sub: Subscription } | { status: number; message: string } => {
    const team = auth(req, url)
    if (team === undefined) {
      d.meters.unauthorized()
      return { status: 401, message: `a valid token is required: send "Authorization: Bearer <token>" (or ?token=<token>) with a token of channel ${d.settings.channel}` }
    }
    const header = req.headers['last-event-id']
    const sub = parseSubscription(url, Array.isArray(header) ? header[0] : header, d.channel.liveSeq, d.expressions)
    if ('error' in sub) return { status: 400, message: sub.error }
    return { team, sub }
  }

  const subscribe = (transport: Transport, team: string, sub: Subscription, peer: string): void => {
    let counted = true
    d.meters.connected(team, transport.kind, 1)
    const subscriber = new Subscriber(transport, {
      team,
      buffer: d.settings.buffer,
      policy: d.settings.policy,
      filter: sub.filter,
      onSent: (n) => d.meters.sent(team, n),
      onDropped: (n) => d.meters.dropped(team, n),
      onSlow: () => {
        d.meters.slow(team)
        d.logger.warn({ channel: d.settings.channel, team, peer, transport: transport.kind, buffer: d.settings.buffer, sent: subscriber.stats.sent }, 'push client too slow: its buffer is full; disconnected (policy disconnect)')
      },
      onClosed: () => {
        d.channel.detach(subscriber)
        if (counted) d.meters.connected(team, transport.kind, -1)
        counted = false
        const { sent, dropped } = subscriber.stats
        d.logger.info({ channel: d.settings.channel, team, peer, transport: transport.kind, sent, dropped }, 'push client left')
        if (dropped > 0) d.logger.warn({ channel: d.settings.channel, team, peer, dropped }, `push client was too slow: ${dropped} records dropped (policy drop-oldest)`)
      },
    })
    d.logger.info({ channel: d.settings.channel, team, peer, transport: transport.kind, filter: sub.filter?.source, after: sub.after }, 'push client subscribed')
    void d.channel.attach(subscriber, sub.after)
  }

  return {
    request(req: IncomingMessage, res: ServerResponse) {
      const url = new URL(req.url ?? '/', 'http://push.invalid')
      const headers = cors(req)
      if (req.method === 'OPTIONS') {
        res.writeHead(204, { ...headers, 'access-control-allow-headers': 'Authorization, Last-Event-ID', 'access-control-allow-methods': 'GET' }).end()
        return
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('405: subscribe with GET (Server-Sent Events) or a WebSocket upgrade\n')
        return
      }
      if (url.pathname === `${base}/view`) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', 'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'", 'x-content-type-options': 'nosniff' })
        res.end(req.method === 'HEAD' ? undefined : viewPage(d.settings.channel))
        return
      }
      if (url.pathname !== base) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end(`404: channel ${d.settings.channel} serves ${base} (SSE or WebSocket) and ${base}/view\n`)
        return
      }
      const admitted = admit(req, url)
      if ('status' in admitted) {
        res.writeHead(admitted.status, { ...headers, 'content-type': 'application/json', ...(admitted.status === 401 ? { 'www-authenticate': 'Bearer realm="tributary push"' } : {}) })
        res.end(`${JSON.stringify({ error: admitted.message })}\n`)
        return
      }
      const peer = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`
      subscribe(sseTransport(res, headers, RETRY_MS), admitted.team, admitted.sub, peer)
    },

    upgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
      const url = new URL(req.url ?? '/', 'http://push.invalid')
      const refuse = (status: number, reason: string, message: string): void => {
        const body = `${JSON.stringify({ error: message })}\n`
        socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n${status === 401 ? 'WWW-Authenticate: Bearer realm="tributary push"\r\n' : ''}\r\n${body}`)
      }
      if (url.pathname !== base || (req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
        refuse(404, 'Not Found', `WebSocket subscriptions are at ${base}`)
        return
      }
      const admitted = admit(req, url)
      if ('status' in admitted) {
        refuse(admitted.status, admitted.status === 401 ? 'Unauthorized' : 'Bad Request', admitted.message)
        return
      }
      const peer = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`
      wss.handleUpgrade(req, socket, head, (ws) => {
        // Clients only listen; anything they send is ignored.
        ws.on('error', (err) => d.logger.debug({ channel: d.settings.channel, peer, err: err.message }, 'push websocket error'))
        subscribe(wsTransport(ws), admitted.team, admitted.sub, peer)
      })
    },

    close() {
      wss.close()
    },
  }
}
