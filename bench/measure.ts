import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'

export interface ProcessRun {
  ms: number
  peakRssMb: number
  code: number | null
  stderr: string
}

function peakRss(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : 0
  } catch {
    return 0
  }
}

/** Runs a process to its end; wall time from spawn to exit, peak RSS sampled from /proc. */
export function timeProcess(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const start = performance.now()
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    let peak = 0
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
      if (stderr.length > 200_000) stderr = stderr.slice(-100_000)
    })
    const t = setInterval(() => (peak = Math.max(peak, peakRss(child.pid!))), 100)
    child.on('error', reject)
    child.on('exit', (code) => {
      clearInterval(t)
      resolve({ ms: performance.now() - start, peakRssMb: Math.round(peak), code, stderr })
    })
  })
}
