import { open, readFile, stat, unlink } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { TributaryError, type ErrorCode } from '../errors.js'
import { isAlive } from './process.js'

export interface FileLockOptions {
  /** Give up waiting after this long. */
  timeoutMs?: number
  /** A lock older than this is stale even if its pid looks alive (pid reuse). Keep it above the longest critical section. */
  staleMs?: number
  /** What a timeout error says to do (default: about the local nats-server, the first user of this lock). */
  hint?: string
  /** Code of the errors thrown (default E_NATS_SERVER). */
  code?: ErrorCode
}

/**
 * Runs `fn` holding an exclusive lock file (O_EXCL create, our pid inside), across processes.
 * A lock whose holder died (crash, SIGKILL) is taken over. Not reentrant: callers in one
 * process queue like any other holder.
 */
export async function withFileLock<T>(file: string, fn: () => Promise<T>, opts: FileLockOptions = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 90_000
  const staleMs = opts.staleMs ?? 60_000
  const deadline = Date.now() + timeoutMs
  for (let wait = 10; ; wait = Math.min(wait * 2, 200)) {
    if (await tryCreate(file, opts.code ?? 'E_NATS_SERVER')) break
    if (await removeIfStale(file, staleMs)) continue
    if (Date.now() >= deadline) {
      const holder = (await readFile(file, 'utf8').catch(() => '')).trim()
      throw new TributaryError(opts.code ?? 'E_NATS_SERVER', `timed out after ${timeoutMs} ms waiting for lock ${file} (held by pid ${holder || 'unknown'})`, {
        hint: opts.hint ?? 'another Tributary process is starting or stopping the local nats-server; if none is running, delete the lock file',
      })
    }
    await sleep(wait)
  }
  try {
    return await fn()
  } finally {
    await releaseLock(file)
  }
}

async function tryCreate(file: string, code: ErrorCode): Promise<boolean> {
  try {
    const fh = await open(file, 'wx')
    try {
      await fh.writeFile(String(process.pid))
    } finally {
      await fh.close()
    }
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw new TributaryError(code, `cannot create lock file ${file}: ${(err as Error).message}`, { hint: 'check that the Tributary home is writable', cause: err })
  }
}

/**
 * Removes the lock when its holder is gone. The inode check keeps us from deleting a lock that
 * another process re-created after the stale one was removed.
 */
async function removeIfStale(file: string, staleMs: number): Promise<boolean> {
  let fh
  try {
    fh = await open(file, 'r')
  } catch {
    return true // released meanwhile: retry at once
  }
  let ino: number
  let stale: boolean
  try {
    const st = await fh.stat()
    const pid = Number((await fh.readFile('utf8')).trim())
    const age = Date.now() - st.mtimeMs
    ino = st.ino
    // An empty file is a holder between create and write: stale only if it stays empty.
    stale = age > staleMs || (pid > 0 ? !isAlive(pid) : age > 2_000)
  } finally {
    await fh.close()
  }
  if (!stale) return false
  const now = await stat(file).catch(() => undefined)
  if (now?.ino === ino) await unlink(file).catch(() => undefined)
  return true
}

async function releaseLock(file: string): Promise<void> {
  // Only our own lock: after a stale takeover the file may belong to someone else.
  const holder = await readFile(file, 'utf8').catch(() => '')
  if (holder.trim() === String(process.pid)) await unlink(file).catch(() => undefined)
}
