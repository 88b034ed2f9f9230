import type { PluginKind } from '../../plugin-api.js'
import type { PluginManifest } from '../types.js'

export type Permissions = NonNullable<PluginManifest['permissions']>

/** Where a plugin was installed from, as the user gave it (paths made absolute). */
export interface PluginSource {
  type: 'npm' | 'folder' | 'tarball'
  spec: string
}

/** One installed community plugin in `<home>/plugins/tributary-lock.json`. */
export interface LockEntry {
  /** npm package name: its folder under node_modules. */
  package: string
  /** Manifest name: what pipelines write in `use:`. With `kind`, the plugin's identity. */
  name: string
  kind: PluginKind
  version: string
  source: PluginSource
  /** What npm installed: a registry tarball URL, or the tarball copied into the store. */
  resolved: string
  /** Subresource integrity (sha512) of that tarball, as npm recorded it. */
  integrity: string
  /** The permissions the user accepted. */
  permissions: Permissions
  installedAt: string
}

export interface PluginLock {
  lockfileVersion: 1
  /** Keyed by package name. */
  plugins: Record<string, LockEntry>
}

/** What the user is asked to accept before a plugin is installed or updated. */
export interface InstallPlan {
  package: string
  name: string
  kind: PluginKind
  version: string
  description: string
  permissions: Permissions
  source: PluginSource
  /** The entry it replaces (reinstall or update). */
  previous?: LockEntry
  /** On update: the permissions the new version adds (only then is the user asked again). */
  added?: Permissions
}

/** Asked once per plugin, after validation and before any plugin code runs; false cancels. */
export type Confirm = (plan: InstallPlan) => Promise<boolean>

export interface StoreLog {
  /** Progress, for stderr. */
  progress(msg: string): void
  /** npm's own output, shown with --verbose. */
  npmOutput?(chunk: string): void
}
