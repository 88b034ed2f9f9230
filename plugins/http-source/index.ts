import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createOffsetCounter, defineSource, parseDuration, type SourceItem } from '../../core/plugin-api.js'
import { bearerOk, hmacOk, type AuthConfig } from './auth.js'
import { BodyError, parseBody, type BodyEntry } from './body.js'

interface HttpConfig {
  port: number
  host: string
  path: string
  auth: AuthConfig
  maxBodyBytes: number
  successStatus: 200 | 202
  retryAfter: string
  maxBatchRecords: number
  maxQueuedRecords: number
}

/** A request whose records wait to be stored; it is answered once they are, or refused. */
interface Pending {
  entries: BodyEntry[]
  res: ServerResponse
}

type Settlement = { ok: true } | { ok: false; error: Error; backpressure: boolean }

const MAX_ERRORS_IN_ANSWER = 10
const CLOSE_GRACE_MS = 2000

export default defineSource<HttpConfig>({
  async open(ctx) {
    const cfg = ctx.config
    const retryAfter = String(Math.max(1, Math.ceil(parseDuration(cfg.retryAfter) / 1000)))
    const offsets = createOffsetCounter(ctx.state)
    const queue: Pending[] = []
    const unanswered = new Set<Pending>()
    let queuedRecords = 0
    let draining = false
    let full = false
    let wake: (() => void) | undefined

    const answer = (res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void => {
      if (res.headersSent || res.destroyed) return
      res.writeHead(status, { 'content-type': 'application/json', ...headers })
      res.end(JSON.stringify(body))
    }
    const busy = (res: ServerResponse, error: string): void => answer(res, 503, { error }, { 'retry-after': retryAfter })

    const settle = (p: Pending, r: Settlement): void => {
      if (!unanswered.delete(p)) return
      if (r.ok) {
        const errors = p.entries.flatMap((e) => ('error' in e ? [e.error] : []))
        const body = { accepted: p.entries.length - errors.length, rejected: errors.length, ...(errors.length > 0 && { errors: errors.slice(0, MAX_ERRORS_IN_ANSWER) }) }
        answer(p.res, cfg.successStatus, body)
      } else if (r.backpressure) {
        busy(p.res, 'the pipeline is full: try again later')
      } else {
        busy(p.res, `the records could not be stored: ${r.error.message}`)
      }
    }

    const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
      if (draining) return busy(res, 'the pipeline is shutting down')
      const url = new URL(req.url ?? '/', 'http://localhost')
      if (url.pathname !== cfg.path) return answer(res, 404, { error: `not found: POST to ${cfg.path}` })
      if (req.method !== 'POST') return answer(res, 405, { error: 'use POST' }, { allow: 'POST' })
      if (!bearerOk(cfg.auth, req.headers)) return answer(res, 401, { error: 'missing or wrong bearer token' }, { 'www-authenticate': 'Bearer' })
      const declared = Number(req.headers['content-length'] ?? 0)
      if (declared > cfg.maxBodyBytes) return tooLarge(req, res, cfg.maxBodyBytes)
      const body = await readBody(req, cfg.maxBodyBytes)
      if (body === undefined) return tooLarge(req, res, cfg.maxBodyBytes)
      if (!hmacOk(cfg.auth, req.headers, body)) return answer(res, 401, { error: `missing or wrong signature in ${cfg.auth.header}` })
      let entries: BodyEntry[]
      try {
        entries = parseBody(body.toString('utf8'))
      } catch (err) {
        if (err instanceof BodyError) return answer(res, 400, { error: err.message })
        throw err
      }
      if (draining) return busy(res, 'the pipeline is shutting down')
      if (entries.length === 0) return answer(res, cfg.successStatus, { accepted: 0, rejected: 0 })
      // Bounded in memory too: when JetStream is slow, refuse rather than queue without end.
      // (A request alone is always taken, or one larger than the bound could never get in.)
      if (queuedRecords > 0 && queuedRecords + entries.length > cfg.maxQueuedRecords) return busy(res, 'too many records waiting to be stored: try again later')
      const p: Pending = { entries, res }
      queue.push(p)
      unanswered.add(p)
      queuedRecords += entries.length
      wake?.()
    }

    const server = createServer((req, res) => {
      handle(req, res).catch((err: unknown) => {
        // A client that hangs up mid-upload is routine; anything else is worth a warning.
        if (req.destroyed) ctx.logger.debug({ err: (err as Error).message }, 'http client went away')
        else ctx.logger.warn({ err: (err as Error).message }, 'http source request failed')
        answer(res, 500, { error: 'internal error' })
      })
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new Error(`cannot listen on ${cfg.host}:${cfg.port}: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.message}; choose another \`port\` (0 picks a free one)`)),
      )
      server.listen(cfg.port, cfg.host, () => resolve())
    })
    const { port } = server.address() as AddressInfo
    ctx.logger.info({ port, host: cfg.host, path: cfg.path, url: `http://${cfg.host}:${port}${cfg.path}` }, 'http source listening')

    const stopAccepting = (): void => {
      draining = true
      wake?.()
    }
    ctx.signal.addEventListener('abort', stopAccepting, { once: true })

    return {
      async read() {
        while (queue.length === 0) {
          if (draining) return { items: [] }
          await new Promise<void>((resolve) => (wake = resolve))
          wake = undefined
        }
        // Requests that arrived while the previous batch was stored go out together.
        const taken: Pending[] = []
        let n = 0
        while (queue.length > 0 && (taken.length === 0 || n + queue[0]!.entries.length <= cfg.maxBatchRecords)) {
          const p = queue.shift()!
          taken.push(p)
          n += p.entries.length
        }
        queuedRecords -= n
        let offset = await offsets.take(n)
        const items: SourceItem[] = []
        for (const p of taken) {
          for (const e of p.entries) items.push('error' in e ? { offset: offset++, error: e.error, raw: e.raw } : { offset: offset++, value: e.value })
        }
        return {
          items,
          failWhenFull: true,
          settled(result) {
            const nowFull = !result.ok && result.backpressure
            if (nowFull !== full) {
              full = nowFull
              if (full) ctx.logger.warn({ retryAfter: `${retryAfter}s` }, 'stream full: answering 503 until it has room')
              else ctx.logger.info('stream has room again: accepting records')
            }
            for (const p of taken) settle(p, result)
          },
        }
      },
      async close() {
        stopAccepting()
        ctx.signal.removeEventListener('abort', stopAccepting)
        // Whatever was not stored is refused, so the client knows to send it again.
        for (const p of [...unanswered]) settle(p, { ok: false, error: new Error('the pipeline stopped'), backpressure: false })
        queue.length = 0
        // Let the answers just written reach their clients; cut connections that linger.
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS)
          server.close(() => (clearTimeout(force), resolve()))
          server.closeIdleConnections()
        })
      },
    }
  },
})

/** The body, or undefined once it grows past `max` (the rest is read and dropped). */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let over = false
    req.on('data', (c: Buffer) => {
      if (over) return
      size += c.length
      if (size > max) {
        over = true
        chunks.length = 0
        resolve(undefined)
        return
      }
      chunks.push(c)
    })
    req.on('end', () => over || resolve(Buffer.concat(chunks, size)))
    req.on('error', reject)
  })
}

function tooLarge(req: IncomingMessage, res: ServerResponse, max: number): void {
  // Close the connection after answering: no reason to keep reading an oversized upload.
  res.writeHead(413, { 'content-type': 'application/json', connection: 'close' })
  res.end(JSON.stringify({ error: `the body is larger than ${max} bytes (maxBodyBytes)` }))
  req.resume()
}
