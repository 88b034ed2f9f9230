import { randomBytes } from 'node:crypto'
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { isAlive } from './process.js'

/**
 * Registry of the processes using a home's private nats-server: one file per lease,
 * `<usersDir>/<pid>-<random>`, holding the pid of the server it joined. The last live user stops the
 * server. A SIGKILLed user leaves its file behind; its pid is dead, so it no longer counts (and
 * the file is pruned by the next count).
 */

export async function registerUser(usersDir: string, serverPid: number): Promise<string> {
  await mkdir(usersDir, { recursive: true })
  const file = path.join(usersDir, `${process.pid}-${randomBytes(4).toString('hex')}`)
  await writeFile(file, `${JSON.stringify({ pid: process.pid, serverPid, since: new Date().toISOString() })}\n`)
  return file
}

export async function unregisterUser(file: string): Promise<void> {
  await rm(file, { force: true })
}

/**
 * Live users of server `serverPid`. Users of an earlier server on the same home do not count: a
 * process still holding a lease on a dead server must not keep a new one alive.
 */
export async function liveUsers(usersDir: string, serverPid: number, prune = true): Promise<number[]> {
  const names = await readdir(usersDir).catch(() => [] as string[])
  const pids: number[] = []
  for (const name of names) {
    const file = path.join(usersDir, name)
    const entry = await readEntry(file)
    if (entry && isAlive(entry.pid)) {
      if (entry.serverPid === serverPid) pids.push(entry.pid)
    } else if (prune) {
      await rm(file, { force: true })
    }
  }
  return pids
}

async function readEntry(file: string): Promise<{ pid: number; serverPid: number } | undefined> {
  try {
    const e = JSON.parse(await readFile(file, 'utf8')) as { pid?: unknown; serverPid?: unknown }
    return typeof e.pid === 'number' && typeof e.serverPid === 'number' ? { pid: e.pid, serverPid: e.serverPid } : undefined
  } catch {
    // Mid-write by its owner, or garbage: the pid in the name decides.
    const pid = Number(path.basename(file).split('-')[0])
    return Number.isInteger(pid) && pid > 0 ? { pid, serverPid: -1 } : undefined
  }
}
