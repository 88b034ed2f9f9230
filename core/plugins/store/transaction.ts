/**
 * Every change to the plugin store is a transaction: under the store's lock, copy the current
 * generation into a staging folder, let the caller change it (npm, lockfile), then publish it by
 * renaming a new symlink over `<home>/plugins`. Any failure before that removes the staging
 * folder, and the store folder itself when this transaction created it: nothing is left on disk
 * and the lockfile is unchanged.
 */
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { cp, mkdir, readdir, rename, rm, rmdir, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { withFileLock } from '../../nats/file-lock.js'
import { linkState, storeLayout, type LinkState, type StoreLayout } from './layout.js'
import { STORE_PACKAGE, writeApiLink } from './api-link.js'

export interface Transaction {
  layout: StoreLayout
  /** The staging copy to change. */
  dir: string
  /** The folder it was copied from (undefined: first install in this home). */
  current: string | undefined
}

const id = (): string => `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`

/**
 * Runs `fn` on a staging copy of the store and publishes it when `fn` resolves. A `fn` that
 * decides nothing needs to change returns `{ commit: false }`.
 */
export async function withStoreTransaction<T>(home: string, fn: (tx: Transaction) => Promise<{ result: T; commit: boolean }>): Promise<T> {
  const layout = storeLayout(home)
  const createdHome = !existsSync(layout.home)
  const createdRoot = !existsSync(layout.root)
  await mkdir(layout.root, { recursive: true })
  let published = false
  try {
    return await withFileLock(
      layout.lock,
      async () => {
        await removeLeftovers(layout)
        const state = await linkState(layout)
        const current = state.kind === 'none' ? undefined : state.dir
        const dir = path.join(layout.root, `.staging-${id()}`)
        const tx: Transaction = { layout, dir, current }
        try {
          if (current) await cp(current, dir, { recursive: true, verbatimSymlinks: true })
          else await mkdir(dir)
          if (!existsSync(path.join(dir, 'package.json'))) await writeFile(path.join(dir, 'package.json'), `${JSON.stringify(STORE_PACKAGE, null, 2)}\n`)
          await writeApiLink(dir)
          const { result, commit } = await fn(tx)
          if (commit) {
            await publish(layout, dir, state)
            published = true
          }
          return result
        } finally {
          if (!published) await rm(dir, { recursive: true, force: true })
        }
      },
      // An npm install can take minutes: a live holder's lock is not stale before that.
      { timeoutMs: 10 * 60_000, staleMs: 30 * 60_000, code: 'E_PLUGIN', hint: 'another `tributary plugins` command is changing this home\'s plugins; wait for it, or delete the lock file if none is running' },
    )
  } finally {
    // Nothing on disk after a failed first install: the store folder goes too (only if empty).
    if (createdRoot && !published) await rmdir(layout.root).catch(() => undefined)
    if (createdHome && !published) await rmdir(layout.home).catch(() => undefined)
  }
}

/**
 * Moves the staging folder to a new generation and points `<home>/plugins` at it: the rename of
 * a symlink over the old one is atomic. A plain `<home>/plugins` folder (a home from before the
 * store, or made by `init`) is moved aside first; its contents are already in the new generation.
 */
async function publish(layout: StoreLayout, staging: string, previous: LinkState): Promise<void> {
  const gen = path.join(layout.root, `g-${id()}`)
  await rename(staging, gen)
  const tmpLink = path.join(path.dirname(layout.link), `.plugins-${id()}`)
  await symlink(path.relative(path.dirname(layout.link), gen), tmpLink, 'dir')
  if (previous.kind === 'folder') {
    const aside = path.join(layout.root, `.previous-${id()}`)
    await rename(layout.link, aside)
    await rename(tmpLink, layout.link)
    await rm(aside, { recursive: true, force: true })
    return
  }
  await rename(tmpLink, layout.link)
  if (previous.kind === 'generation') await rm(previous.dir, { recursive: true, force: true })
}

/** Staging folders and old generations of transactions that died (we hold the lock: none is live). */
async function removeLeftovers(layout: StoreLayout): Promise<void> {
  const state = await linkState(layout)
  const keep = state.kind === 'generation' ? path.basename(state.dir) : undefined
  for (const name of await readdir(layout.root)) {
    if (name === '.lock' || name === keep) continue
    if (name.startsWith('.staging-') || name.startsWith('.previous-') || name.startsWith('g-')) await rm(path.join(layout.root, name), { recursive: true, force: true })
  }
  for (const name of await readdir(path.dirname(layout.link))) {
    if (name.startsWith('.plugins-')) await rm(path.join(path.dirname(layout.link), name), { force: true })
  }
}
