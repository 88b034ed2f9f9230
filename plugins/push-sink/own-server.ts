import { createServer, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { readFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import type { HttpRouteHandler } from '../../core/plugin-api.js'

export interface OwnServer {
  /** Base URL (`https://127.0.0.1:8443`), with the real port when 0 was asked. */
  readonly url: string
  close(): Promise<void>
}

/**
 * A port of the channel's own (`port` in the config): for HTTPS, or where the runtime serves no
 * HTTP port. Serves `prefix` and below with the same handler as on the runtime's port.
 */
export async function listenOwn(o: { port: number; host: string; tls?: { cert: string; key: string } }, prefix: string, handler: HttpRouteHandler): Promise<OwnServer> {
  const under = (url: string | undefined): boolean => {
    const path = (url ?? '/').split('?')[0]!
    return path === prefix || path.startsWith(`${prefix}/`)
  }
  const onRequest: Parameters<typeof createServer>[1] = (req, res) => {
    if (under(req.url)) handler.request(req, res)
    else res.writeHead(404, { 'content-type': 'text/plain' }).end(`404: this port serves ${prefix}\n`)
  }
  let server: Server
  if (o.tls) {
    const [cert, key] = await Promise.all([readFile(o.tls.cert), readFile(o.tls.key)]).catch((err: unknown) => {
      throw new Error(`tls: cannot read the certificate or key: ${(err as Error).message}`)
    })
    server = createHttpsServer({ cert, key }, onRequest)
  } else server = createServer(onRequest)
  server.on('upgrade', (req, socket, head) => {
    if (under(req.url) && handler.upgrade) handler.upgrade(req, socket, head)
    else socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new Error(`cannot listen on ${o.host}:${o.port}: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.message}`)))
    server.listen(o.port, o.host, () => resolve())
  })
  const addr = server.address() as AddressInfo
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
  return {
    url: `${o.tls ? 'https' : 'http'}://${host}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
