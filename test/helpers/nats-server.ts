import { mkdtemp, rm } from 'node:fs/promises'
import { afterAll, beforeAll } from 'vitest'
import { connect } from '@nats-io/transport-node'
import type { NatsConnection } from '@nats-io/nats-core'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { isAlive, terminate } from '../../core/nats/process.js'
import { spawnNatsServer } from '../../core/nats/spawn-server.js'

export interface TestNatsServer {
  url: string
  port: number
  /** Changes on restart(). */
  pid: number
  storeDir: string
  /** SIGTERM, SIGKILL after a grace period, then removes the temp dir. Safe to call twice. */
  stop(): Promise<void>
  /** Crash the server (fault tests); restart() brings it back. */
  kill9(): void
  /** Same port and store, new process. */
  restart(): Promise<void>
}

export interface TestNatsServerOptions {
  /** Extra nats-server arguments, e.g. ['--user', 'u', '--pass', 'p'] or ['--auth', 'token']. */
  args?: string[]
  /** false: start without -js. */
  jetstream?: boolean
}

/**
 * A real nats-server for one test file: 127.0.0.1, a port it picks itself (no race with parallel
 * test files), a temp store. Returns once it accepts connections. Call stop() in afterAll /
 * finally. Its log is `<temp dir>/server.log`.
 */
export async function startNatsServer(opts: TestNatsServerOptions = {}): Promise<TestNatsServer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'trib-nats-'))
  const storeDir = path.join(dir, 'store')
  const base = { store: storeDir, portsDir: dir, logFile: path.join(dir, 'server.log'), args: opts.args, jetstream: opts.jetstream }
  let s
  try {
    s = await spawnNatsServer(base)
  } catch (err) {
    await rm(dir, { recursive: true, force: true })
    throw err
  }
  const port = s.port
  let stopped = false
  const server: TestNatsServer = {
    url: s.url,
    port,
    pid: s.pid,
    storeDir,
    async stop() {
      if (stopped) return
      stopped = true
      await terminate(server.pid, 5_000)
      await rm(dir, { recursive: true, force: true })
    },
    kill9() {
      if (isAlive(server.pid)) process.kill(server.pid, 'SIGKILL')
    },
    async restart() {
      await terminate(server.pid, 5_000)
      server.pid = (await spawnNatsServer({ ...base, port })).pid
    },
  }
  return server
}

/**
 * A nats-server and one client connection for the tests of a file (or a describe block): started
 * before them, closed and stopped by PID after them, even when they fail.
 */
export function natsForSuite(): { readonly nc: NatsConnection; readonly url: string } {
  let server: TestNatsServer | undefined
  let nc: NatsConnection | undefined
  beforeAll(async () => {
    server = await startNatsServer()
    nc = await connect({ servers: server.url })
  })
  afterAll(async () => {
    await nc?.close()
    await server?.stop()
  })
  return {
    get nc() {
      return nc!
    },
    get url() {
      return server!.url
    },
  }
}
