/**
 * Where installed community plugins live in a home. `<home>/plugins` (the registry's extra
 * folder) is a symlink to one generation in `<home>/plugins.d/`: an npm project whose
 * `node_modules/<package>/plugin.json` the registry discovers. A change is made in a staging
 * copy and published by replacing the symlink with rename(2), which is atomic: readers see the
 * old plugins or the new ones, never a half-installed tree.
 */
import { lstat, readlink } from 'node:fs/promises'
import path from 'node:path'
import { homePaths } from '../../home/paths.js'

export const LOCKFILE = 'tributary-lock.json'

export interface StoreLayout {
  home: string
  /** `<home>/plugins`: the symlink (or, in a home made before the store, a plain folder). */
  link: string
  /** `<home>/plugins.d`: generations, staging folders and the lock. */
  root: string
  lock: string
}

export function storeLayout(home: string): StoreLayout {
  const p = homePaths(home)
  const root = path.join(p.root, 'plugins.d')
  return { home: p.root, link: p.plugins, root, lock: path.join(root, '.lock') }
}

/**
 * `generation`: our link into plugins.d. `folder`: a plain folder (its contents move into the
 * store). `link`: a symlink the user made to a folder elsewhere (its contents are copied; the
 * folder itself is left alone).
 */
export type LinkState = { kind: 'none' } | { kind: 'folder' | 'generation' | 'link'; dir: string }

/** What `<home>/plugins` is now. */
export async function linkState(layout: StoreLayout): Promise<LinkState> {
  const st = await lstat(layout.link).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined
    throw err
  })
  if (!st) return { kind: 'none' }
  if (st.isSymbolicLink()) {
    const dir = path.resolve(path.dirname(layout.link), await readlink(layout.link))
    return { kind: path.dirname(dir) === layout.root ? 'generation' : 'link', dir }
  }
  return { kind: 'folder', dir: layout.link }
}
