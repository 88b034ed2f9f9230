import { createWriteStream, mkdirSync } from 'node:fs'
import path from 'node:path'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { Kvm } from '@nats-io/kv'
import type { NatsConnection } from '@nats-io/nats-core'
import { openClickHouse } from '../../core/clickhouse/open.js'
import type { ClickHouse } from '../../core/plugin-api.js'
import { readStatusDocs } from '../../core/status/heartbeat.js'
import { stateBucket } from '../../core/jetstream/names.js'
import { isAlive } from '../../core/nats/process.js'
import { runCli, spawnCli, waitFor, type Background, type CliResult } from './cli.js'

/**
 * Fleet tests run workers as child processes of the compiled CLI (`tributary worker`), each with
 * its own home (as on separate machines), and drive them with the CLI commands.
 */
export interface WorkerProcess extends Background {
  name: string
  pid: number
  /** SIGKILL (no drain, no lease release). */
  kill9(): Promise<void>
  /** SIGTERM (drain) and wait for the exit. */
  stop(): Promise<number | null>
}

/** Worker logs go to `<TRIB_FLEET_LOGS>/<name>.log` when that variable names a folder (for debugging). */
export function startWorkerProcess(name: string, env: NodeJS.ProcessEnv, args: string[] = []): WorkerProcess {
  const bg = spawnCli(['worker', '--id', name, '--heartbeat', '1s', '--lease-ttl', '3s', ...args], { ...env, TRIBUTARY_HOME: path.join(env.TRIBUTARY_HOME ?? '.', name) })
  const logDir = process.env.TRIB_FLEET_LOGS
  if (logDir) {
    mkdirSync(logDir, { recursive: true })
    bg.child.stderr!.pipe(createWriteStream(path.join(logDir, `${name}.log`)))
  }
  const pid = bg.child.pid!
  return {
    ...bg,
    name,
    pid,
    async kill9() {
      if (isAlive(pid)) process.kill(pid, 'SIGKILL')
      await bg.exited
    },
    async stop() {
      if (isAlive(pid)) process.kill(pid, 'SIGTERM')
      return bg.exited
    },
  }
}

/** Runs a CLI command and fails with its stderr when it exits non-zero. */
export async function cli(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  const r = await runCli(args, env)
  if (r.code !== 0) throw new Error(`tributary ${args.join(' ')} exited ${r.code}:\n${r.stderr}`)
  return r
}

export function clickhouse(url: string, home: string): Promise<ClickHouse> {
  return openClickHouse({ url, home })
}

export async function counts(ch: ClickHouse, table: string, where = '1'): Promise<{ n: number; ids: number }> {
  const rows = await ch.query<{ n: number | string; ids: number | string }>(`SELECT count() AS n, uniqExact(id) AS ids FROM ${table} WHERE ${where}`)
  return { n: Number(rows[0]?.n ?? 0), ids: Number(rows[0]?.ids ?? 0) }
}

/** Polls until the table holds `n` rows (the table may not exist yet). */
export async function waitForRows(ch: ClickHouse, table: string, n: number, timeoutMs = 120_000): Promise<void> {
  await waitFor(`${n} rows in ${table}`, async () => (await counts(ch, table).catch(() => ({ n: -1 }))).n >= n, timeoutMs)
}

/** Records each worker's runtime of the pipeline took in, at `stage`, from their status documents. */
export async function workByWorker(nc: NatsConnection, pipeline: string, stage: string): Promise<Record<string, number>> {
  const kv = await new Kvm(jetstream(nc)).open(stateBucket(pipeline))
  const out: Record<string, number> = {}
  for (const d of await readStatusDocs(kv, { jsm: await jetstreamManager(nc), pipeline })) {
    const worker = d.fleet?.worker ?? d.instance
    out[worker] = (out[worker] ?? 0) + (d.stages.find((s) => s.id === stage)?.in ?? 0)
  }
  return out
}

export { waitFor }
