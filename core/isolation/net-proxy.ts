/**
 * The host's side of an isolated plugin's network: a Unix socket, bound into the plugin's
 * network namespace, that speaks one line — `CONNECT host:port\n` — and answers `OK\n` before
 * piping bytes both ways, or `ERR reason\n` and closes. It is what enforces the `network`
 * permission: the child's own check only gives an earlier, clearer error. Names are resolved
 * here, on the host; a name rule never covers a raw IP.
 */
import net from 'node:net'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { allowedBy, hostPort, normalizeHost } from './host-rules.js'
import type { HostRule } from './types.js'

export interface NetProxy {
  readonly socketPath: string
  close(): Promise<void>
}

export interface NetProxyLog {
  warn(obj: object, msg: string): void
  debug(obj: object, msg: string): void
}

const MAX_LINE = 1024

export async function startNetProxy(rules: readonly HostRule[], log: NetProxyLog): Promise<NetProxy> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'trib-net-'))
  const socketPath = path.join(dir, 'proxy.sock')
  const open = new Set<net.Socket>()
  const server = net.createServer((client) => {
    open.add(client)
    client.on('close', () => open.delete(client))
    client.on('error', () => undefined)
    let head = ''
    const onData = (d: Buffer): void => {
      head += d.toString('latin1')
      const nl = head.indexOf('\n')
      if (nl < 0) {
        if (head.length > MAX_LINE) client.destroy()
        return
      }
      client.off('data', onData)
      client.pause()
      const rest = Buffer.from(head.slice(nl + 1), 'latin1')
      connectUpstream(client, head.slice(0, nl).trim(), rest)
    }
    client.on('data', onData)
  })
  const connectUpstream = (client: net.Socket, line: string, rest: Buffer): void => {
    const m = /^CONNECT (\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(line)
    if (!m) return void client.end('ERR bad request\n')
    const host = normalizeHost(m[1]!)
    const port = Number(m[2])
    if (!allowedBy(rules, host, port)) {
      log.warn({ to: hostPort(host, port) }, 'isolated plugin: connection refused, the host is not in its network permission')
      return void client.end(`ERR permission denied: connecting to ${hostPort(host, port)} needs "network": ["${hostPort(host, port)}"] in the plugin's permissions\n`)
    }
    const upstream = net.connect({ host, port })
    open.add(upstream)
    upstream.on('close', () => open.delete(upstream))
    upstream.once('connect', () => {
      log.debug({ to: hostPort(host, port) }, 'isolated plugin: connected')
      client.write('OK\n')
      if (rest.length) upstream.write(rest)
      client.pipe(upstream)
      upstream.pipe(client)
      client.resume()
    })
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (client.writable && upstream.connecting) client.end(`ERR ${err.code ?? err.message}\n`)
      else client.destroy()
    })
    client.on('close', () => upstream.destroy())
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(socketPath, resolve)
  })
  // Only this user (and the plugin, which runs as this user) may connect.
  await chmod(socketPath, 0o600)
  return {
    socketPath,
    async close() {
      for (const s of open) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await rm(dir, { recursive: true, force: true })
    },
  }
}
