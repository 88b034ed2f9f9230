import path from 'node:path'
import { TributaryError } from '../../errors.js'
import { withStoreTransaction } from './transaction.js'
import { readLock, writeLock } from './lockfile.js'
import { NPM_FLAGS, runNpm } from './npm.js'
import { classifySource, stageSource, TARBALLS } from './source.js'
import { storeDependencies, verifyStaged } from './verify.js'
import { acceptStaged, dropTarball } from './accept.js'
import type { Confirm, LockEntry, PluginSource, StoreLog } from './types.js'

export interface InstallOptions {
  confirm: Confirm
  log: StoreLog
  /** Base of a relative folder or tarball path (default: the working directory). */
  cwd?: string
}

export interface InstallResult {
  installed: LockEntry
  /** The version it replaced, when the package was installed before. */
  replaced?: LockEntry
}

/**
 * `plugins install SPEC`: npm installs the package into a staging copy of the store, it is
 * verified, the user accepts its permissions, its code is loaded once, the lockfile records it,
 * and the store is published atomically. Any failure leaves the home as it was.
 */
export async function installPlugin(home: string, spec: string, opts: InstallOptions): Promise<InstallResult> {
  const source = await classifySource(spec, opts.cwd)
  return withStoreTransaction(home, async (tx) => {
    const lock = await readLock(tx.dir)
    const before = await storeDependencies(tx.dir)
    const arg = await stageSource(source, tx.dir, opts.log)
    opts.log.progress(`installing ${source.spec} with npm`)
    await runNpm(['install', arg, ...NPM_FLAGS], tx.dir, `npm install ${source.spec}`, opts.log)
    const pkg = installedPackage(before, await storeDependencies(tx.dir), source, arg)
    const staged = await verifyStaged(tx.dir, pkg, lock)
    const previous = lock.plugins[pkg]
    const installed = await acceptStaged(staged, source, previous, opts.confirm, 'install', opts.log)
    await dropTarball(tx.dir, previous, installed)
    lock.plugins[pkg] = installed
    await writeLock(tx.dir, lock)
    return { result: { installed, ...(previous ? { replaced: previous } : {}) }, commit: true }
  })
}

/** The package npm just installed: the dependency it added or changed in the store's package.json. */
function installedPackage(before: Record<string, string>, after: Record<string, string>, source: PluginSource, arg: string): string {
  const changed = Object.keys(after).filter((k) => k !== 'tributary' && before[k] !== after[k])
  if (changed.length === 1) return changed[0]!
  // Reinstalling the same spec changes nothing: find it by what it was installed from.
  const file = `file:${TARBALLS}/${path.basename(arg)}`
  const byValue = Object.keys(after).filter((k) => after[k] === file)
  if (source.type !== 'npm' && byValue.length === 1) return byValue[0]!
  if (source.type === 'npm') {
    const name = source.spec.replace(/^(@[^/]+\/[^@]+|[^@]+)@.*$/, '$1')
    if (after[name] !== undefined) return name
  }
  throw new TributaryError('E_PLUGIN', `could not tell which package npm installed for ${source.spec}`, { hint: 'install it by its npm package name, a tarball or a folder' })
}
