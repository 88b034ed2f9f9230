import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { mkdir, readFile, readdir, rm } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { TributaryError } from '../errors.js'
import { isAlive, terminate } from './process.js'

export interface SpawnOptions {
  /** JetStream store directory. */
  store: string
  /** Where nats-server writes `<exe>_<pid>.ports`, which tells us its port. */
  portsDir: string
  /** stdout and stderr of the server are appended here. */
  logFile: string
  /** Fixed port (a restart keeps its port); default: one the server picks, so no race for it. */
  port?: number
  /** Own process group, not waited for: survives our exit and a Ctrl-C sent to our group. */
  detached?: boolean
  /** Extra arguments (auth, TLS) appended after ours. */
  args?: string[]
  /** Without JetStream (tests of the JetStream check). */
  jetstream?: boolean
  /** The executable; default `TRIBUTARY_NATS_SERVER` or `nats-server` on PATH. */
  bin?: string
  readyTimeoutMs?: number
}

export interface SpawnedServer {
  pid: number
  port: number
  url: string
}

/** Starts nats-server on 127.0.0.1 and returns once it accepts connections. */
export async function spawnNatsServer(opts: SpawnOptions): Promise<SpawnedServer> {
  const bin = opts.bin ?? (process.env.TRIBUTARY_NATS_SERVER || 'nats-server')
  await mkdir(opts.store, { recursive: true })
  await mkdir(opts.portsDir, { recursive: true })
  await mkdir(path.dirname(opts.logFile), { recursive: true })
  const args = ['-a', '127.0.0.1', '-p', String(opts.port ?? -1), ...(opts.jetstream === false ? [] : ['-js']), '--store_dir', opts.store, '--ports_file_dir', opts.portsDir, ...(opts.args ?? [])]
  const fd = openSync(opts.logFile, 'a')
  let child: ChildProcess
  try {
    child = spawn(bin, args, { detached: opts.detached ?? false, stdio: ['ignore', fd, fd] })
  } finally {
    closeSync(fd)
  }
  const failed = new Promise<Error>((resolve) => {
    child.once('error', resolve)
    child.once('exit', (code, sig) => resolve(new Error(`exited with ${sig ?? `code ${code}`}`)))
  })
  if (opts.detached) child.unref()
  const pid = child.pid
  if (pid === undefined) throw startError(bin, await failed, opts.logFile)

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 20_000)
  let exited: Error | undefined
  void failed.then((e) => (exited = e))
  for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
    if (exited || !isAlive(pid)) throw startError(bin, exited ?? new Error('exited'), opts.logFile)
    const port = await readPortsFile(opts.portsDir, pid)
    if (port !== undefined && (await acceptsClients(port))) return { pid, port, url: `nats://127.0.0.1:${port}` }
    if (Date.now() >= deadline) {
      await terminate(pid)
      throw new TributaryError('E_NATS_SERVER', `nats-server (pid ${pid}) did not accept connections within ${opts.readyTimeoutMs ?? 20_000} ms`, { hint: `see its log: ${opts.logFile}` })
    }
    await sleep(wait)
  }
}

function startError(bin: string, err: Error, logFile: string): TributaryError {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
    return new TributaryError('E_NATS_SERVER', `cannot start a local NATS server: \`${bin}\` was not found`, {
      hint: 'install nats-server (Debian/Ubuntu: `apt install nats-server`), or point --nats / NATS_URL at a running server',
      cause: err,
    })
  }
  return new TributaryError('E_NATS_SERVER', `nats-server failed to start (${err.message})`, { hint: `see its log: ${logFile}`, cause: err })
}

/** Port from `<exe>_<pid>.ports`, written by nats-server once it listens. */
export async function readPortsFile(portsDir: string, pid: number): Promise<number | undefined> {
  const name = (await readdir(portsDir).catch(() => [] as string[])).find((n) => n.endsWith(`_${pid}.ports`))
  if (!name) return undefined
  try {
    const { nats } = JSON.parse(await readFile(path.join(portsDir, name), 'utf8')) as { nats?: string[] }
    const port = Number(new URL(nats?.[0] ?? '').port)
    return port > 0 ? port : undefined
  } catch {
    return undefined // being written
  }
}

/** A killed server leaves its ports file behind. */
export async function removePortsFile(portsDir: string, pid: number): Promise<void> {
  for (const n of await readdir(portsDir).catch(() => [] as string[])) {
    if (n.endsWith(`_${pid}.ports`)) await rm(path.join(portsDir, n), { force: true })
  }
}

/** True when a NATS server on 127.0.0.1:`port` greets a new connection with INFO. */
export function acceptsClients(port: number, timeoutMs = 2_000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port })
    const done = (ok: boolean): void => {
      sock.destroy()
      resolve(ok)
    }
    sock.setTimeout(timeoutMs, () => done(false))
    sock.once('error', () => done(false))
    sock.once('data', (b) => done(b.subarray(0, 5).toString() === 'INFO '))
  })
}
