/**
 * The plugin's TCP connections, inside its network namespace. Every `net.Socket#connect` to a
 * host — which `net.connect`, `tls.connect`, `http`, `fetch` (undici), the NATS and ClickHouse
 * clients all end in — is checked against the `network` permission: refused at once with an
 * error naming the permission, or redirected to a forwarder on the namespace's loopback that
 * tunnels it through the host's proxy (the only way out). The caller keeps a real TCP socket, so
 * TLS, keep-alive and backpressure work unchanged; TLS still verifies the original host name.
 *
 * This is for routing and messages, not the boundary: code that gets around it (a worker
 * thread, a spawned process) meets the namespace, which has no route out.
 */
import net from 'node:net'
import { TributaryError } from '../../errors.js'
import { allowedBy, hostPort } from '../host-rules.js'
import type { HostRule } from '../types.js'

interface Destination {
  host: string
  port: number
}

type ConnectFn = (this: net.Socket, ...args: unknown[]) => net.Socket
type NormalizeArgs = (args: unknown[]) => [net.SocketConnectOpts & { host?: string; port?: number; path?: string | null }, ((...a: unknown[]) => void) | null]

export function deniedConnectError(host: string, port: number): TributaryError {
  const hp = hostPort(host, port)
  return Object.assign(new TributaryError('E_PERMISSION', `permission denied: connecting to ${hp} needs "network": ["${hp}"] in the plugin's permissions`), { errno: -13, syscall: 'connect', address: host, port })
}

export async function patchNetwork(rules: readonly HostRule[], proxySocket: string): Promise<void> {
  const original = net.Socket.prototype.connect as unknown as ConnectFn
  const normalize = (net as unknown as { _normalizeArgs: NormalizeArgs })._normalizeArgs
  const forwarder = await startForwarder(original, proxySocket)

  net.Socket.prototype.connect = function connect(this: net.Socket, ...args: unknown[]): net.Socket {
    // net.connect() passes its already normalized [options, callback] as one array argument.
    const [opts, cb] = Array.isArray(args[0]) ? (args[0] as ReturnType<NormalizeArgs>) : normalize(args)
    // A Unix socket (Node tests `path` for truthiness: http passes `path: null`): only what the mount namespace shows.
    if (opts.path || forwarder.own.has(this)) return original.apply(this, args)
    const host = opts.host ?? 'localhost'
    const port = Number(opts.port)
    if (!allowedBy(rules, host, port)) {
      process.nextTick(() => this.destroy(deniedConnectError(host, port)))
      return this
    }
    const localAddress = forwarder.register({ host, port })
    // No DNS lookup here (there is no resolver in the namespace): the host's proxy resolves names.
    const redirected = { ...opts, host: '127.0.0.1', port: forwarder.port, localAddress, family: 4, autoSelectFamily: false, lookup: undefined }
    return original.call(this, redirected, ...(cb ? [cb] : []))
  } as typeof net.Socket.prototype.connect
}

interface Forwarder {
  port: number
  /** Sockets the forwarder opens itself (to the proxy): not redirected. */
  own: WeakSet<net.Socket>
  /** Reserves a loopback source address for one connection; the forwarder knows it by that address. */
  register(dest: Destination): string
}

/**
 * Listens on the namespace's loopback. Each redirected connection comes from its own source
 * address in 127.0.0.0/8 (chosen before connecting), which is how the forwarder knows where it
 * was meant to go without a handshake the caller would see.
 */
async function startForwarder(original: ConnectFn, proxySocket: string): Promise<Forwarder> {
  const pending = new Map<string, Destination>()
  const own = new WeakSet<net.Socket>()
  let next = 0
  const server = net.createServer({ pauseOnConnect: true }, (conn) => {
    const dest = pending.get(conn.remoteAddress ?? '')
    pending.delete(conn.remoteAddress ?? '')
    if (!dest) return void conn.destroy()
    const up = new net.Socket()
    own.add(up)
    original.call(up, { path: proxySocket })
    up.write(`CONNECT ${hostPort(dest.host, dest.port)}\n`)
    let head = Buffer.alloc(0)
    const onHead = (d: Buffer): void => {
      head = Buffer.concat([head, d])
      const nl = head.indexOf(10)
      if (nl < 0) return
      up.off('data', onHead)
      const status = head.subarray(0, nl).toString()
      const rest = head.subarray(nl + 1)
      if (!status.startsWith('OK')) {
        conn.destroy()
        up.destroy()
        return
      }
      if (rest.length) conn.write(rest)
      conn.pipe(up)
      up.pipe(conn)
      conn.resume()
    }
    up.on('data', onHead)
    up.on('error', () => conn.destroy())
    conn.on('error', () => up.destroy())
    up.on('close', () => conn.destroy())
    conn.on('close', () => up.destroy())
  })
  server.unref()
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port))
  })
  return {
    port,
    own,
    register(dest) {
      // 127.1.0.1 … 127.254.255.254: ~16M addresses, reused in turn; an entry lives until its connection arrives.
      const n = next++ % (254 * 256 * 254)
      const addr = `127.${1 + Math.floor(n / (256 * 254))}.${Math.floor(n / 254) % 256}.${1 + (n % 254)}`
      pending.set(addr, dest)
      return addr
    },
  }
}
