import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'

export interface ProcessRun {
  ms: number
  /** Peak resident memory (VmHWM), chDB's mapped library included. */
  peakRssMb: number
  /** Peak anonymous memory (RssAnon sampled every 100 ms): the heap and buffers, without mapped files. */
  peakAnonMb: number
  code: number | null
  stderr: string
}

export interface TimedProcess {
  child: ChildProcess
  /** Everything the process wrote to stderr so far (the tail, for long runs). */
  stderr(): string
  done: Promise<ProcessRun>
}

function memory(pid: number): { hwm: number; anon: number } {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? 0)
    return { hwm: kb('VmHWM') / 1024, anon: kb('RssAnon') / 1024 }
  } catch {
    return { hwm: 0, anon: 0 }
  }
}

/** Starts a process; wall time from spawn to exit, peak RSS sampled from /proc. */
export function startTimed(cmd: string, args: string[], env: NodeJS.ProcessEnv): TimedProcess {
  const start = performance.now()
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  let peak = 0
  let anon = 0
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString()
    if (stderr.length > 200_000) stderr = stderr.slice(-100_000)
  })
  const sample = (): void => {
    const m = memory(child.pid!)
    peak = Math.max(peak, m.hwm)
    anon = Math.max(anon, m.anon)
  }
  const t = setInterval(sample, 100)
  const done = new Promise<ProcessRun>((resolve, reject) => {
    child.on('error', reject)
    child.on('exit', (code) => {
      clearInterval(t)
      resolve({ ms: performance.now() - start, peakRssMb: Math.round(peak), peakAnonMb: Math.round(anon), code, stderr })
    })
  })
  return { child, stderr: () => stderr, done }
}

/** Runs a process to its end (see startTimed). */
export function timeProcess(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<ProcessRun> {
  return startTimed(cmd, args, env).done
}
