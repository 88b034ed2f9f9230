import type { ServerResponse } from 'node:http'
import { CONNECTION_BYTES, type Transport } from './transport.js'

/**
 * Server-Sent Events on a response: `id:` is the record's position, so a browser's EventSource
 * sends it back as `Last-Event-ID` when it reconnects (after `retry` ms).
 */
export function sseTransport(res: ServerResponse, headers: Record<string, string>, retryMs: number): Transport {
  res.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // nginx and similar proxies buffer responses unless told not to.
    'x-accel-buffering': 'no',
  })
  res.write(`retry: ${retryMs}\n\n`)
  return {
    kind: 'sse',
    frame: (e) => e.sse,
    notice: (name, data) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`,
    send(frames) {
      res.write(frames.length === 1 ? frames[0]! : frames.join(''))
    },
    writable: () => res.writableLength < CONNECTION_BYTES && !res.destroyed,
    onDrain(cb) {
      res.once('drain', cb)
    },
    heartbeat() {
      res.write(': keep-alive\n\n')
    },
    close(graceful) {
      if (graceful) res.end()
      else res.destroy()
    },
    onClose(cb) {
      res.once('close', cb)
    },
  }
}
