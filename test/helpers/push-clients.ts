/**
 * Clients of the push sink for tests: an SSE client on node:http(s) that parses events as they
 * arrive (and can stop reading, to play a stalled dashboard), a WebSocket client, and a reader
 * of the runtime's /metrics.
 */
import http, { type IncomingMessage } from 'node:http'
import https from 'node:https'
import WebSocket from 'ws'

export interface PushEvent {
  /** `message` for records; `dropped`, `gap` for notices. */
  event: string
  id?: string
  data: string
}

export interface PushClient {
  readonly events: PushEvent[]
  /** Records received, parsed, in order, with their event ids. */
  records(): { id: number; record: Record<string, unknown> }[]
  /** Sum of the counts of `dropped` notices. */
  dropped(): number
  readonly status: Promise<number>
  /** Resolves when the server closed the stream (or the connection broke). */
  readonly ended: Promise<void>
  pause(): void
  resume(): void
  close(): void
}

export interface SseOptions {
  headers?: Record<string, string>
  /** CA certificate for https URLs (a self-signed test certificate). */
  ca?: Buffer
}

/** Subscribes with Server-Sent Events; `status` resolves with the HTTP status (the body of a refusal is in events[0].data). */
export function sseClient(url: string, opts: SseOptions = {}): PushClient {
  const events: PushEvent[] = []
  const records: { id: number; record: Record<string, unknown> }[] = []
  let res: IncomingMessage | undefined
  let resolveEnded!: () => void
  const ended = new Promise<void>((r) => (resolveEnded = r))
  const u = new URL(url)
  const mod = u.protocol === 'https:' ? https : http
  let buf = ''
  const status = new Promise<number>((resolve, reject) => {
    const req = mod.get(u, { headers: { accept: 'text/event-stream', ...opts.headers }, ...(opts.ca ? { ca: opts.ca } : {}) }, (r) => {
      res = r
      resolve(r.statusCode ?? 0)
      r.setEncoding('utf8')
      r.on('data', (chunk: string) => {
        if (r.statusCode !== 200) {
          buf += chunk
          return
        }
        buf += chunk
        // One pass over what arrived, one slice at the end: a stalled client's backlog comes in MBs.
        let start = 0
        for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n', start)) {
          const block = buf.slice(start, i)
          start = i + 2
          const ev: PushEvent = { event: 'message', data: '' }
          let hasData = false
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue
            const colon = line.indexOf(':')
            const field = colon < 0 ? line : line.slice(0, colon)
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
            if (field === 'data') {
              ev.data = hasData ? `${ev.data}\n${value}` : value
              hasData = true
            } else if (field === 'id') ev.id = value
            else if (field === 'event') ev.event = value
          }
          if (hasData) {
            events.push(ev)
            if (ev.event === 'message') records.push({ id: Number(ev.id), record: JSON.parse(ev.data) as Record<string, unknown> })
          }
        }
        buf = buf.slice(start)
      })
      r.on('end', () => {
        if (r.statusCode !== 200) events.push({ event: 'refusal', data: buf })
        resolveEnded()
      })
      r.on('close', () => resolveEnded())
      r.on('error', () => resolveEnded())
    })
    req.on('error', (err) => {
      reject(err)
      resolveEnded()
    })
  })
  status.catch(() => undefined)
  return {
    events,
    records: () => records,
    dropped: () => events.filter((e) => e.event === 'dropped').reduce((n, e) => n + (JSON.parse(e.data) as { count: number }).count, 0),
    status,
    ended,
    pause: () => res?.pause(),
    resume: () => res?.resume(),
    close: () => res?.destroy(),
  }
}

export interface WsClient {
  readonly messages: { id?: number; record?: Record<string, unknown>; event?: string }[]
  records(): { id: number; record: Record<string, unknown> }[]
  /** Resolves with 101 once open, or the status of a refused upgrade. */
  readonly status: Promise<number>
  readonly closed: Promise<number>
  close(): void
}

export function wsClient(url: string, headers: Record<string, string> = {}): WsClient {
  const messages: WsClient['messages'] = []
  const ws = new WebSocket(url, { headers })
  const status = new Promise<number>((resolve, reject) => {
    ws.on('open', () => resolve(101))
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0)
      res.resume()
      ws.terminate()
    })
    ws.on('error', (err) => reject(err))
  })
  status.catch(() => undefined)
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)))
  const records: { id: number; record: Record<string, unknown> }[] = []
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as WsClient['messages'][number]
    messages.push(m)
    if (m.id !== undefined) records.push({ id: m.id, record: m.record! })
  })
  return {
    messages,
    records: () => records,
    status,
    closed,
    close: () => ws.close(),
  }
}

/** The value of one series of the runtime's /metrics (0 when absent). */
export async function metricValue(metricsUrl: string, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(metricsUrl)).text()
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`)
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue
    const inner = line.slice(name.length + 1, line.indexOf('}'))
    const have = inner.split(',')
    if (want.every((w) => have.includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return 0
}

/**
 * What `curl -sN --max-time S URL` prints: the raw body of a subscription read for `ms`, then
 * cut. `: keep-alive` comment lines (every 15 s on an idle channel) are left out.
 */
export function rawSubscription(url: string, headers: Record<string, string>, ms: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => (body += d))
      const done = (): void => resolve({ status: res.statusCode ?? 0, body: body.replace(/^: keep-alive\n\n/gm, '') })
      const timer = setTimeout(() => {
        res.destroy()
        done()
      }, ms)
      res.on('end', () => {
        clearTimeout(timer)
        done()
      })
    })
    req.on('error', reject)
  })
}
