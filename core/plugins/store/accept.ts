import { rm } from 'node:fs/promises'
import path from 'node:path'
import { TributaryError } from '../../errors.js'
import type { StagedPackage } from './verify.js'
import type { Confirm, InstallPlan, LockEntry, PluginSource, StoreLog } from './types.js'
import { checkLoadsIsolated } from '../../isolation/load-check.js'
import { addedPermissions, isEmpty } from './permissions.js'

/**
 * Asks the user to accept a verified package (always on install; on update only when it asks for
 * more than before), then loads its code in its sandbox — the first time any of it runs — and returns its
 * lock entry. A refusal or a failed load throws, which rolls the transaction back.
 */
export async function acceptStaged(staged: StagedPackage, source: PluginSource, previous: LockEntry | undefined, confirm: Confirm, mode: 'install' | 'update', log?: StoreLog): Promise<LockEntry> {
  const m = staged.manifest
  const permissions = m.permissions ?? {}
  const added = previous ? addedPermissions(previous.permissions, permissions) : permissions
  const plan: InstallPlan = { package: staged.package, name: m.name, kind: m.kind, version: staged.version, description: m.description, permissions, source, ...(previous ? { previous } : {}), ...(mode === 'update' ? { added } : {}) }
  if ((mode === 'install' || !isEmpty(added)) && !(await confirm(plan))) {
    throw new TributaryError('E_PLUGIN', `${staged.package} was not ${mode === 'install' ? 'installed' : 'updated'}: its permissions were not accepted`, { hint: 'nothing was changed' })
  }
  // Sandboxed like the plugin at run time: its top-level code already meets the accepted permissions.
  await checkLoadsIsolated(staged.entry, { warn: (msg) => log?.progress(msg) })
  return {
    package: staged.package,
    name: m.name,
    kind: m.kind,
    version: staged.version,
    source,
    resolved: staged.resolved,
    integrity: staged.integrity,
    permissions,
    installedAt: new Date().toISOString(),
  }
}

/** Removes the store's copy of a tarball that no dependency uses any more. */
export async function dropTarball(storeDir: string, entry: LockEntry | undefined, keep?: LockEntry): Promise<void> {
  if (!entry?.resolved.startsWith('file:tarballs/') || entry.resolved === keep?.resolved) return
  await rm(path.join(storeDir, entry.resolved.slice('file:'.length)), { force: true })
}
