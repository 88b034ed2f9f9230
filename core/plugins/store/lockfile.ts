import { readFile, rename, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { TributaryError, errorMessage } from '../../errors.js'
import { LOCKFILE } from './layout.js'
import type { LockEntry, PluginLock } from './types.js'

export function emptyLock(): PluginLock {
  return { lockfileVersion: 1, plugins: {} }
}

/** The lock of a store folder; an absent file is an empty lock. */
export async function readLock(dir: string | undefined): Promise<PluginLock> {
  if (!dir) return emptyLock()
  const file = path.join(dir, LOCKFILE)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyLock()
    throw err
  }
  try {
    const lock = JSON.parse(text) as PluginLock
    if (lock.lockfileVersion !== 1 || typeof lock.plugins !== 'object' || lock.plugins === null) throw new Error(`unknown lockfileVersion ${String(lock.lockfileVersion)}`)
    return lock
  } catch (err) {
    throw new TributaryError('E_PLUGIN', `the plugin lockfile ${file} is unreadable: ${errorMessage(err)}`, {
      hint: 'restore it from a backup, or remove the plugins folder and install the plugins again',
      cause: err,
    })
  }
}

export async function writeLock(dir: string, lock: PluginLock): Promise<void> {
  const sorted: PluginLock = { lockfileVersion: 1, plugins: Object.fromEntries(Object.entries(lock.plugins).sort(([a], [b]) => a.localeCompare(b))) }
  const file = path.join(dir, LOCKFILE)
  await writeFile(`${file}.tmp`, `${JSON.stringify(sorted, null, 2)}\n`)
  await rename(`${file}.tmp`, file)
}

/** Entries whose package or manifest name is `name`. */
export function findEntries(lock: PluginLock, name: string): LockEntry[] {
  return Object.values(lock.plugins).filter((e) => e.package === name || e.name === name)
}
