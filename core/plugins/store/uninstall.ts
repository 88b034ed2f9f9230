import { TributaryError } from '../../errors.js'
import { builtinPluginsDir, createRegistry } from '../registry.js'
import { withStoreTransaction } from './transaction.js'
import { findEntries, readLock, writeLock } from './lockfile.js'
import { linkState, storeLayout } from './layout.js'
import { NPM_FLAGS, runNpm } from './npm.js'
import { dropTarball } from './accept.js'
import type { LockEntry, PluginLock, StoreLog } from './types.js'

/** `plugins uninstall NAME` (package or plugin name): npm uninstall in a staging copy, lock updated, published. */
export async function uninstallPlugin(home: string, name: string, log: StoreLog): Promise<LockEntry> {
  const state = await linkState(storeLayout(home))
  await pick(await readLock(state.kind === 'none' ? undefined : state.dir), name) // fail before copying anything
  return withStoreTransaction(home, async (tx) => {
    const lock = await readLock(tx.dir)
    const entry = await pick(lock, name)
    log.progress(`uninstalling ${entry.package}`)
    await runNpm(['uninstall', entry.package, ...NPM_FLAGS], tx.dir, `npm uninstall ${entry.package}`, log)
    await dropTarball(tx.dir, entry)
    delete lock.plugins[entry.package]
    await writeLock(tx.dir, lock)
    return { result: entry, commit: true }
  })
}

/** The one installed entry named `name`, or an error that says why there is none. */
export async function pick(lock: PluginLock, name: string): Promise<LockEntry> {
  const matches = findEntries(lock, name)
  if (matches.length === 1) return matches[0]!
  if (matches.length > 1) {
    throw new TributaryError('E_USAGE', `several installed plugins are named "${name}": ${matches.map((e) => `${e.kind} from ${e.package}`).join(', ')}`, { hint: 'give the package name instead' })
  }
  const builtins = await createRegistry({ builtinDir: builtinPluginsDir() })
  if (builtins.list().some((e) => e.manifest.name === name)) {
    throw new TributaryError('E_USAGE', `"${name}" is a built-in plugin; only installed community plugins can be removed or updated`, { hint: 'run `tributary plugins list` to see which plugins are community plugins' })
  }
  throw new TributaryError('E_USAGE', `no community plugin named "${name}" is installed`, { hint: 'run `tributary plugins list` to see the installed plugins' })
}
