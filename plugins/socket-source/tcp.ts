import net from 'node:net'
import type { Logger } from '../../core/plugin-api.js'
import { LineSplitter, type LineSink } from './line-splitter.js'
import { listenError, remoteOf } from './listen-error.js'

export interface TcpOptions {
  host: string
  port: number
  maxLineBytes: number
  logger: Logger
  /** The sink for one connection's lines. */
  sinkFor(remote: string): LineSink
  /** Checked after each chunk: true pauses every connection until `resume()`. */
  full(): boolean
}

export interface TcpListener {
  /** The port actually bound (differs from the configured one when that is 0). */
  readonly port: number
  /** Resumes reading every connection (there is room again). */
  resume(): void
  close(): Promise<void>
}

/**
 * A TCP server whose connections stop being read while the pipeline is full: the kernel's
 * buffers fill, TCP's window closes, and senders block instead of losing data.
 */
export async function listenTcp(opts: TcpOptions): Promise<TcpListener> {
  const sockets = new Set<net.Socket>()
  let paused = false
  const server = net.createServer((socket) => {
    const remote = remoteOf(socket.remoteAddress, socket.remotePort)
    const sink = opts.sinkFor(remote)
    const splitter = new LineSplitter(opts.maxLineBytes)
    sockets.add(socket)
    if (paused) socket.pause()
    opts.logger.debug({ remote }, 'connection opened')
    socket.on('data', (chunk: Buffer) => {
      splitter.push(chunk, sink)
      if (!paused && opts.full()) {
        paused = true
        for (const s of sockets) s.pause()
        opts.logger.debug({ connections: sockets.size }, 'pipeline full: connections paused')
      }
    })
    socket.on('end', () => splitter.end(sink))
    socket.on('error', (err) => opts.logger.debug({ remote, err: err.message }, 'connection error'))
    socket.on('close', () => {
      sockets.delete(socket)
      opts.logger.debug({ remote }, 'connection closed')
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(listenError('tcp', opts.host, opts.port, err)))
    server.listen({ host: opts.host, port: opts.port }, () => resolve())
  })
  server.on('error', (err) => opts.logger.error({ err: err.message }, 'tcp server error'))
  return {
    port: (server.address() as net.AddressInfo).port,
    resume() {
      if (!paused) return
      paused = false
      for (const s of sockets) s.resume()
      opts.logger.debug({ connections: sockets.size }, 'room again: connections resumed')
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const s of sockets) s.destroy()
      })
    },
  }
}
