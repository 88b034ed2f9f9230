/**
 * The permissions to enforce are the ones the user accepted at install, recorded in the store's
 * lockfile, not whatever plugin.json says today: a manifest edited after install to ask for more
 * is refused. A plugin folder placed by hand (no lockfile entry) runs with its manifest's.
 */
import path from 'node:path'
import { TributaryError } from '../errors.js'
import type { PluginEntry, PluginManifest } from '../plugins/types.js'
import { readLock } from '../plugins/store/lockfile.js'
import { addedPermissions, describePermissions, isEmpty } from '../plugins/store/permissions.js'

type Permissions = NonNullable<PluginManifest['permissions']>

export async function acceptedPermissions(entry: PluginEntry): Promise<Permissions> {
  const declared = entry.manifest.permissions ?? {}
  const store = storeOf(entry.dir)
  if (!store) return declared
  const lock = await readLock(store.dir)
  const locked = lock.plugins[store.pkg]
  if (!locked) return declared
  const added = addedPermissions(locked.permissions, declared)
  if (!isEmpty(added)) {
    throw new TributaryError('E_PERMISSION', `plugin "${entry.manifest.name}" (${entry.manifest.kind}) now asks for permissions that were not accepted at install: ${describePermissions(added).join('; ')}`, {
      hint: `reinstall or update it to review them (\`tributary plugins update ${store.pkg}\`)`,
    })
  }
  return locked.permissions
}

/** `<store>/node_modules/<pkg>` (or `@scope/pkg`) → the store folder and the package name. */
function storeOf(dir: string): { dir: string; pkg: string } | undefined {
  const parts = path.resolve(dir).split(path.sep)
  const i = parts.lastIndexOf('node_modules')
  if (i < 1 || i >= parts.length - 1) return undefined
  const pkg = parts.slice(i + 1).join('/')
  if (!/^(@[^/]+\/)?[^/@]+$/.test(pkg)) return undefined
  return { dir: parts.slice(0, i).join(path.sep) || path.sep, pkg }
}
