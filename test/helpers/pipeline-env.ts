/**
 * What most pipeline integration tests set up, once per file: a real nats-server on a port it
 * picks (temp store), a temp folder with a Tributary home in it, a connection for the test's own
 * reads, an environment for in-process runs and CLI children, and a query helper on the home's
 * embedded ClickHouse. `close()` stops everything by PID, whatever happened.
 *
 *   let t: PipelineEnv
 *   beforeAll(async () => (t = await startPipelineEnv('e2e')))
 *   afterAll(() => t?.close())
 */
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { connect } from '@nats-io/transport-node'
import type { NatsConnection } from '@nats-io/nats-core'
import { startNatsServer, type TestNatsServer } from './nats-server.js'
import { makeTempDir } from './tmp.js'
import { assertBuilt, spawnCli, type Background } from './cli.js'
import { Session } from '../../core/app/session.js'
import { natsServersOn } from '../../core/nats/process.js'

export interface PipelineEnvOptions {
  /**
   * Start a nats-server for the file (default). `false`: none, and NATS_URL is unset, so
   * commands find NATS as a user's would (`up`, else a private server on the home's store).
   */
  nats?: boolean
  /** The tests spawn the compiled CLI: fail at once when dist/ is missing. */
  cli?: boolean
  /** Added to the environment (tokens, URLs the pipeline files reference). */
  env?: NodeJS.ProcessEnv
}

export interface PipelineEnv {
  /** The temp folder (pipeline files, inputs, outputs). */
  readonly dir: string
  /** The Tributary home, `<dir>/home` (chDB data, plugins, the `up` server's store). */
  readonly home: string
  /** process.env with TRIBUTARY_HOME, NATS_URL (the test server, or none), no CLICKHOUSE_URL (embedded). */
  readonly env: NodeJS.ProcessEnv
  /** The test's nats-server (throws when started with `nats: false`). */
  readonly nats: TestNatsServer
  /** A connection to it for the test's own reads and writes. */
  readonly nc: NatsConnection
  /** SQL on the home's embedded ClickHouse, in this process (chDB: one process per data folder). */
  query<T>(sql: string): Promise<T[]>
  /** Writes `text` to `<dir>/<name>` and returns that path. */
  write(name: string, text: string): Promise<string>
  /** Starts the compiled CLI with this env (plus `extraEnv`); close() kills it by PID if it still runs. */
  spawn(args: string[], extraEnv?: NodeJS.ProcessEnv): Background
  close(): Promise<void>
}

export async function startPipelineEnv(name: string, opts: PipelineEnvOptions = {}): Promise<PipelineEnv> {
  if (opts.cli) assertBuilt()
  const withNats = opts.nats ?? true
  const [tmp, nats] = await Promise.all([makeTempDir(name), withNats ? startNatsServer() : undefined])
  const home = path.join(tmp.dir, 'home')
  const children: Background[] = []
  let nc: NatsConnection | undefined
  const close = async (): Promise<void> => {
    for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) kill(c.child.pid)
    await Promise.all(children.map((c) => c.exited))
    await nc?.close().catch(() => undefined)
    await nats?.stop()
    // A server `up` or a command started on the home's store (nats: false) is ours to stop too.
    for (const pid of natsServersOn(path.join(home, 'nats', 'store'))) kill(pid)
    await tmp.remove()
  }
  try {
    if (nats) nc = await connect({ servers: nats.url })
    const env: NodeJS.ProcessEnv = { ...process.env, TRIBUTARY_HOME: home, ...opts.env }
    delete env.CLICKHOUSE_URL
    if (nats) env.NATS_URL = nats.url
    else delete env.NATS_URL
    const missing = (what: string) => (): never => {
      throw new Error(`startPipelineEnv("${name}", { nats: false }) has no ${what}`)
    }
    return {
      dir: tmp.dir,
      home,
      env,
      get nats() {
        return nats ?? missing('nats-server')()
      },
      get nc() {
        return nc ?? missing('NATS connection')()
      },
      async query<T>(sql: string): Promise<T[]> {
        const s = new Session({ home, env: {} })
        const ch = await s.clickhouse()
        try {
          return (await ch.query(sql)) as T[]
        } finally {
          await ch.close()
          await s.close()
        }
      },
      async write(file, text) {
        const p = path.join(tmp.dir, file)
        await writeFile(p, text)
        return p
      },
      spawn(args, extraEnv = {}) {
        const run = spawnCli(args, { ...env, ...extraEnv })
        children.push(run)
        return run
      },
      close,
    }
  } catch (err) {
    await close()
    throw err
  }
}

/** SIGKILL by PID, if the process is still there. */
function kill(pid: number | undefined): void {
  if (pid === undefined) return
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    // already gone
  }
}
