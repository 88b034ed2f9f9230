import fs from 'node:fs'
import http from 'node:http'
import { TributaryError, errorMessage } from '../errors.js'
import type { JsonObject } from '../plugin-api.js'
import type { EmbeddedClickHouse } from './embedded.js'
import {
  PROTOCOL_HEADER,
  PROTOCOL_VERSION,
  checkSocketPath,
  errorReply,
  type PingReply,
  type QueryReply,
  type StatementRequest,
  type VersionReply,
} from './protocol.js'

/**
 * The owner side: this process opened the home's chDB and serves the other processes of the
 * home over its Unix socket (protocol.ts). Only the process holding chDB's directory lock calls
 * this, so removing a socket file left by a killed owner cannot break a live one.
 */
export interface OwnerServer {
  readonly socketPath: string
  /** Stops serving (in-flight requests finish, up to `graceMs`) and removes the socket. */
  close(graceMs?: number): Promise<void>
}

export async function serveOwner(ch: EmbeddedClickHouse, socketPath: string): Promise<OwnerServer> {
  checkSocketPath(socketPath)
  removeSocket(socketPath)
  // Every answer says `connection: close`: one request per connection, as the proxy expects.
  const server = http.createServer((req, res) => void handle(ch, req, res))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(socketPath, () => {
      server.off('error', reject)
      resolve()
    })
  }).catch((err: unknown) => {
    throw new TributaryError('E_CLICKHOUSE', `cannot serve embedded ClickHouse on ${socketPath}: ${errorMessage(err)}`, {
      hint: 'check that the Tributary home is writable',
      cause: err,
    })
  })
  // The socket speaks for the data: only this user may connect.
  fs.chmodSync(socketPath, 0o600)
  // process.exit() skips close(); a socket left behind would only cost proxies a refused connect, but tidy up.
  const onExit = (): void => removeSocket(socketPath)
  process.on('exit', onExit)

  let closing: Promise<void> | undefined
  return {
    socketPath,
    close(graceMs = 10_000) {
      closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), graceMs)
        server.close(() => {
          clearTimeout(timer)
          resolve()
        })
        server.closeIdleConnections()
      }).finally(() => {
        process.off('exit', onExit)
        removeSocket(socketPath)
      })
      return closing
    },
  }
}

function removeSocket(socketPath: string): void {
  try {
    fs.unlinkSync(socketPath)
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOENT') throw err
  }
}

async function handle(ch: EmbeddedClickHouse, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  try {
    const body = await readBody(req)
    const url = new URL(req.url ?? '/', 'http://owner')
    const route = `${req.method} ${url.pathname}`
    if (route === 'GET /ping') {
      return reply(res, 200, { pid: process.pid, dataDir: ch.dataDir, protocol: PROTOCOL_VERSION } satisfies PingReply)
    }
    if (req.headers[PROTOCOL_HEADER] !== PROTOCOL_VERSION) {
      throw new TributaryError('E_CLICKHOUSE', `a process spoke ClickHouse owner protocol ${String(req.headers[PROTOCOL_HEADER])}, this owner speaks ${PROTOCOL_VERSION}`, {
        hint: 'run the same Tributary version in every process of a home',
      })
    }
    switch (route) {
      case 'GET /version':
        return reply(res, 200, { version: await ch.version() } satisfies VersionReply)
      case 'POST /query': {
        const s = parseStatement(body)
        return reply(res, 200, { rows: await ch.query(s.sql, s.params) } satisfies QueryReply)
      }
      case 'POST /command': {
        const s = parseStatement(body)
        await ch.command(s.sql, s.params)
        return reply(res, 200, {})
      }
      case 'POST /insert': {
        const settings = JSON.parse(url.searchParams.get('settings') ?? '{}') as Record<string, string | number>
        await ch.insertNdjson(url.searchParams.get('table') ?? '', body, settings)
        return reply(res, 200, {})
      }
      default:
        throw new TributaryError('E_INTERNAL', `unknown ClickHouse owner route ${route}`)
    }
  } catch (err) {
    reply(res, 500, errorReply(err))
  }
}

function parseStatement(body: Buffer): StatementRequest {
  const s = JSON.parse(body.toString('utf8')) as StatementRequest
  if (typeof s?.sql !== 'string') throw new TributaryError('E_INTERNAL', 'ClickHouse owner request without sql')
  return s
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

function reply(res: http.ServerResponse, status: number, body: JsonObject | object): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), connection: 'close' })
  res.end(text)
}
