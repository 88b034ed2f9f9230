import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Registry } from 'prom-client'
import { TributaryError, errorMessage } from '../errors.js'
import type { RouteTable } from '../http/routes.js'

export interface MetricsServer {
  /** e.g. http://127.0.0.1:9464 (the real port when 0 was asked). */
  readonly url: string
  close(): Promise<void>
}

export interface MetricsServerOptions {
  host: string
  /** 0: a free port chosen by the OS (printed in the log). */
  port: number
  registry: Registry
  /** True while the pipeline runs: plugins open, consumers fetching, not draining. */
  ready(): boolean
  /** Routes that plugins add (`ctx.http`), consulted before the server's own paths. */
  routes?: RouteTable
}

/**
 * The runtime's HTTP port: `/metrics` (Prometheus text), `/healthz` (the process answers) and
 * `/readyz` (503 while starting or draining, so a load balancer or orchestrator stops sending).
 */
export async function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (opts.routes && routed(opts.routes, req, res)) return
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end()
      return
    }
    if (path === '/metrics') {
      opts.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': opts.registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${(err as Error).message}\n`),
      )
      return
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n')
      return
    }
    if (path === '/readyz') {
      const ready = opts.ready()
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ready\n' : 'not ready\n')
      return
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /healthz or /readyz\n')
  })
  server.on('upgrade', (req, socket, head) => {
    if (!opts.routes?.upgrade(req, socket, head)) socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new TributaryError('E_USAGE', `cannot serve metrics on ${opts.host}:${opts.port}: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.message}`, {
          hint: 'choose another port with --metrics-port (0 picks a free one), or stop the process using it',
          cause: err,
        }),
      ),
    )
    server.listen(opts.port, opts.host, () => resolve())
  })
  const addr = server.address() as AddressInfo
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
  return {
    url: `http://${host}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/** A plugin's handler that throws answers 500 instead of taking the runtime's port down. */
function routed(routes: RouteTable, req: IncomingMessage, res: ServerResponse): boolean {
  try {
    return routes.request(req, res)
  } catch (err) {
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' })
    res.end(`internal error: ${errorMessage(err)}\n`)
    return true
  }
}
