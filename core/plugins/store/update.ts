import { withStoreTransaction } from './transaction.js'
import { readLock, writeLock } from './lockfile.js'
import { NPM_FLAGS, runNpm } from './npm.js'
import { stageSource } from './source.js'
import { verifyStaged } from './verify.js'
import { acceptStaged, dropTarball } from './accept.js'
import { pick } from './uninstall.js'
import type { Confirm, LockEntry, StoreLog } from './types.js'

export interface UpdateResult {
  package: string
  name: string
  from: string
  to: string
  changed: boolean
}

/**
 * `plugins update [NAME…]`: packages from npm move to the newest version their recorded range
 * allows (`npm update`); folders and tarballs are installed again from where they were
 * installed from. The user is asked again only for permissions a new version adds. All of it is
 * one transaction: one failure leaves every plugin as it was.
 */
export async function updatePlugins(home: string, names: string[], opts: { confirm: Confirm; log: StoreLog }): Promise<UpdateResult[]> {
  return withStoreTransaction(home, async (tx) => {
    const lock = await readLock(tx.dir)
    const targets: LockEntry[] = names.length > 0 ? await Promise.all(names.map((n) => pick(lock, n))) : Object.values(lock.plugins)
    if (targets.length === 0) return { result: [], commit: false }
    const fromNpm = targets.filter((e) => e.source.type === 'npm').map((e) => e.package)
    if (fromNpm.length > 0) {
      opts.log.progress(`updating ${fromNpm.join(', ')} with npm`)
      await runNpm(['update', ...fromNpm, ...NPM_FLAGS], tx.dir, `npm update ${fromNpm.join(' ')}`, opts.log)
    }
    const local = targets.filter((e) => e.source.type !== 'npm')
    if (local.length > 0) {
      const args = []
      for (const e of local) args.push(await stageSource(e.source, tx.dir, opts.log))
      opts.log.progress(`reinstalling ${local.map((e) => e.package).join(', ')} from ${local.map((e) => e.source.spec).join(', ')}`)
      await runNpm(['install', ...args, ...NPM_FLAGS], tx.dir, `npm install ${args.join(' ')}`, opts.log)
    }
    const results: UpdateResult[] = []
    for (const prev of targets) {
      const staged = await verifyStaged(tx.dir, prev.package, lock)
      const changed = staged.version !== prev.version || staged.integrity !== prev.integrity
      results.push({ package: prev.package, name: staged.manifest.name, from: prev.version, to: staged.version, changed })
      if (!changed) continue
      const next = await acceptStaged(staged, prev.source, prev, opts.confirm, 'update', opts.log)
      await dropTarball(tx.dir, prev, next)
      lock.plugins[prev.package] = next
    }
    await writeLock(tx.dir, lock)
    return { result: results, commit: results.some((r) => r.changed) }
  })
}
