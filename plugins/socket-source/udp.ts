import dgram from 'node:dgram'
import type { Logger } from '../../core/plugin-api.js'
import { datagramLines, type LineSink } from './line-splitter.js'
import { listenError, remoteOf } from './listen-error.js'

export interface UdpOptions {
  host: string
  port: number
  maxLineBytes: number
  recvBufferSize: number
  logger: Logger
  sinkFor(remote: string): LineSink
  /** Checked per datagram: true drops it (UDP cannot push back) and counts the drop. */
  full(): boolean
}

export interface UdpCounters {
  received: number
  dropped: number
}

export interface UdpListener {
  /** The port actually bound (differs from the configured one when that is 0). */
  readonly port: number
  /** Datagrams taken in and dropped by this listener since it started. */
  readonly counters: UdpCounters
  close(): Promise<void>
}

export async function listenUdp(opts: UdpOptions): Promise<UdpListener> {
  const socket = dgram.createSocket({ type: opts.host.includes(':') ? 'udp6' : 'udp4' })
  const counters: UdpCounters = { received: 0, dropped: 0 }
  socket.on('message', (msg, rinfo) => {
    if (opts.full()) {
      counters.dropped++
      return
    }
    counters.received++
    datagramLines(msg, opts.maxLineBytes, opts.sinkFor(remoteOf(rinfo.address, rinfo.port)))
  })
  await new Promise<void>((resolve, reject) => {
    socket.once('error', (err) => reject(listenError('udp', opts.host, opts.port, err)))
    socket.bind({ address: opts.host, port: opts.port }, () => resolve())
  })
  socket.on('error', (err) => opts.logger.error({ err: err.message }, 'udp socket error'))
  if (opts.recvBufferSize > 0) {
    try {
      socket.setRecvBufferSize(opts.recvBufferSize)
    } catch (err) {
      opts.logger.warn({ err: (err as Error).message, recvBufferSize: opts.recvBufferSize }, 'could not set the UDP receive buffer size; using the OS default')
    }
  }
  return {
    port: socket.address().port,
    counters,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  }
}
