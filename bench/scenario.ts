import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { startTimed, type ProcessRun, type TimedProcess } from './measure.js'

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const bin = path.join(root, 'bin', 'run.js')

export interface BenchContext {
  work: string
  natsUrl: string
  /** Environment of every process: NATS_URL set, warnings only in the logs. */
  env: NodeJS.ProcessEnv
  log(line: string): void
}

export interface ScenarioResult {
  name: string
  records: number
  /** Input bytes (for MB/s). */
  bytes: number
  tributary: ProcessRun
  baseline: ProcessRun
  /** Rows each side wrote, and the rows the job must write. */
  rows: { tributary: number; baseline: number; expected: number }
  /** Event → queryable latency of the same pipeline shape at a fixed rate (the latency run), when measured. */
  latency?: { p50Ms: number; p99Ms: number; rate: number }
  note?: string
}

export function startTributary(ctx: BenchContext, args: string[], env: NodeJS.ProcessEnv = ctx.env): TimedProcess {
  return startTimed(process.execPath, [bin, ...args], env)
}

export async function runTributary(ctx: BenchContext, args: string[], env?: NodeJS.ProcessEnv): Promise<ProcessRun> {
  return checked('tributary', await startTributary(ctx, args, env).done)
}

export function startBaseline(ctx: BenchContext, script: string, args: string[]): TimedProcess {
  return startTimed(process.execPath, [path.join(root, 'dist', 'bench', 'baseline', `${script}.js`), ...args], ctx.env)
}

export async function runBaseline(ctx: BenchContext, script: string, args: string[]): Promise<ProcessRun> {
  return checked(`baseline ${script}`, await startBaseline(ctx, script, args).done)
}

export function checked(what: string, run: ProcessRun): ProcessRun {
  if (run.code !== 0) throw new Error(`${what} exited ${run.code}:\n${run.stderr.slice(-4000)}`)
  return run
}

/** `tributary query SQL --json` against a home's embedded ClickHouse (outside the timed runs). */
export function query<T>(home: string, sql: string): T[] {
  const out = execFileSync(process.execPath, [bin, 'query', sql, '--json', '--home', home], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  return JSON.parse(out) as T[]
}

export function count(home: string, table: string): number {
  return Number(query<{ n: number | string }>(home, `SELECT count() AS n FROM ${table}`)[0]!.n)
}

export function seconds(run: ProcessRun): string {
  return `${(run.ms / 1000).toFixed(1)} s`
}
