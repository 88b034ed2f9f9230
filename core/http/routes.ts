import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import type { HttpRouteHandler, HttpRoutes } from '../plugin-api.js'
import { TributaryError } from '../errors.js'

/** Paths the runtime's own server answers; a plugin cannot take them over. */
const RESERVED = ['/metrics', '/healthz', '/readyz']
const PREFIX = /^(\/[A-Za-z0-9._~-]+)+$/

/**
 * Routes that plugins add to the runtime's HTTP port. The server consults the table before its
 * own paths; the plugin context hands out `HttpRoutes` backed by it.
 */
export interface RouteTable {
  /** What `ctx.http` is: `url` is the server's base URL, undefined while it serves nothing. */
  readonly routes: HttpRoutes
  /** Answers the request when a route holds its path; false when none does. */
  request(req: IncomingMessage, res: ServerResponse): boolean
  /** Hands an upgrade request to its route (404 when the route takes no upgrades); false when no route holds the path. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean
}

export function createRouteTable(url: () => string | undefined): RouteTable {
  const table = new Map<string, HttpRouteHandler>()
  const find = (req: IncomingMessage): HttpRouteHandler | undefined => {
    const path = (req.url ?? '/').split('?')[0]!
    // Longest prefix first: `/push/ops` and `/push/ops-eu` never shadow each other anyway, but a
    // nested prefix (`/push` and `/push/ops`) should go to the more specific route.
    let best: string | undefined
    for (const prefix of table.keys()) {
      if ((path === prefix || path.startsWith(`${prefix}/`)) && (best === undefined || prefix.length > best.length)) best = prefix
    }
    return best === undefined ? undefined : table.get(best)
  }
  return {
    routes: {
      get url() {
        return url()
      },
      route(pathPrefix, handler) {
        if (url() === undefined) {
          throw new TributaryError('E_USAGE', `cannot serve ${pathPrefix}: the runtime serves no HTTP port`, {
            hint: 'set `metrics: { port: 9464 }` in the pipeline file or run with `--metrics-port`, or give the plugin a port of its own',
          })
        }
        if (!PREFIX.test(pathPrefix) || RESERVED.some((r) => pathPrefix === r || pathPrefix.startsWith(`${r}/`))) {
          throw new TributaryError('E_USAGE', `cannot serve ${JSON.stringify(pathPrefix)} on the runtime's HTTP port: a route is a path such as /push/ops, not ${RESERVED.join(', ')}`)
        }
        if (table.has(pathPrefix)) {
          throw new TributaryError('E_USAGE', `${pathPrefix} is already served on the runtime's HTTP port by another stage`, { hint: 'give each stage its own path (for the push sink: its own `channel`)' })
        }
        table.set(pathPrefix, handler)
        return () => {
          if (table.get(pathPrefix) === handler) table.delete(pathPrefix)
        }
      },
    },
    request(req, res) {
      const h = find(req)
      if (!h) return false
      h.request(req, res)
      return true
    },
    upgrade(req, socket, head) {
      const h = find(req)
      if (!h) return false
      if (h.upgrade) h.upgrade(req, socket, head)
      else socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
      return true
    },
  }
}

/** `ctx.http` where the runtime serves no HTTP port: `url` is undefined and `route()` says how to get one. */
export const noRoutes: HttpRoutes = createRouteTable(() => undefined).routes
