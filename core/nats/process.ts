import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

/**
 * What we can learn about a pid before signalling it. Linux reads /proc; elsewhere `ps` gives the
 * command line (orphan scanning is Linux-only).
 */

const hasProcfs = existsSync('/proc/self/cmdline')

/**
 * True while `pid` runs. A zombie counts as gone: it has exited but nobody reaped it yet, which
 * lasts forever for orphans on machines whose pid 1 does not reap (this one, containers).
 */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  return procState(pid) !== 'Z'
}

function procState(pid: number): string | undefined {
  if (!hasProcfs) return undefined
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // `pid (comm) S ...`: comm may contain spaces and parentheses, so cut at the last `)`.
    return stat.charAt(stat.lastIndexOf(')') + 2)
  } catch {
    return undefined
  }
}

/**
 * True when `pid` is a live nats-server whose JetStream store is `store`. Guards every kill: a
 * pid from a state file may since have been reused by an unrelated process.
 */
export function isNatsServerOn(pid: number, store: string): boolean {
  if (!isAlive(pid)) return false
  if (hasProcfs) {
    let args: string[]
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
    } catch {
      return false
    }
    const i = args.indexOf('--store_dir')
    return path.basename(args[0] ?? '').includes('nats-server') && i > 0 && args[i + 1] === store
  }
  try {
    const line = execFileSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' }).trim()
    return path.basename(line.split(' ')[0] ?? '').includes('nats-server') && line.includes(` --store_dir ${store}`)
  } catch {
    return false
  }
}

/** Every live nats-server on `store` (Linux; elsewhere only recorded servers are known). */
export function natsServersOn(store: string): number[] {
  if (!hasProcfs) return []
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => pid !== process.pid && isNatsServerOn(pid, store))
}

/** Waits until `pid` is gone; false when it still runs after `timeoutMs`. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false
    await sleep(25)
  }
  return true
}

/** SIGTERM (nats-server then flushes its store), SIGKILL if it is still there after `graceMs`. */
export async function terminate(pid: number, graceMs = 10_000): Promise<boolean> {
  if (!signal(pid, 'SIGTERM')) return true
  if (await waitForExit(pid, graceMs)) return true
  signal(pid, 'SIGKILL')
  return waitForExit(pid, 5_000)
}

function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig)
    return true
  } catch {
    return false
  }
}
