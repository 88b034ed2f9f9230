/**
 * Checks a package npm put into a staging store before anything of it runs: it carries a valid
 * plugin.json, its entry exists, its `engine` range includes the running Tributary, and its
 * (kind, name) is free — not a built-in's, not another installed package's.
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import semver from 'semver'
import { TributaryError, ValidationError } from '../../errors.js'
import { parseConfigText } from '../../config/source-map.js'
import { validateManifest } from '../../manifest/validate.js'
import { builtinPluginsDir, createRegistry } from '../registry.js'
import { tributaryInstall } from '../../app/tributary-install.js'
import type { PluginEntry, PluginManifest } from '../types.js'
import type { PluginLock } from './types.js'

export interface StagedPackage {
  package: string
  manifest: PluginManifest
  version: string
  resolved: string
  integrity: string
  /** The registry entry, to load() the plugin once the user accepted it. */
  entry: PluginEntry
}

/** Dependencies of the store's package.json (package → spec). */
export async function storeDependencies(dir: string): Promise<Record<string, string>> {
  const pkg = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }
  return pkg.dependencies ?? {}
}

export async function verifyStaged(dir: string, pkg: string, lock: PluginLock): Promise<StagedPackage> {
  const pkgDir = path.join(dir, 'node_modules', pkg)
  const label = `${pkg}/plugin.json`
  const file = path.join(pkgDir, 'plugin.json')
  if (!existsSync(file)) {
    throw new TributaryError('E_PLUGIN', `the package ${pkg} is not a Tributary plugin: it has no plugin.json`, { hint: 'a plugin package carries plugin.json at its root (list it in `files` of its package.json)' })
  }
  const parsed = parseConfigText(await readFile(file, 'utf8'), label)
  let manifest: PluginManifest
  try {
    manifest = validateManifest(parsed.value, label, { locate: parsed.locate })
  } catch (err) {
    if (err instanceof ValidationError) throw new ValidationError(`the plugin manifest ${label}`, err.issues, 'fix plugin.json in the plugin package (its schema is schemas/plugin-manifest.schema.json); nothing was installed')
    throw err
  }
  const who = `plugin "${manifest.name}" ${manifest.version} (${manifest.kind})`
  const version = tributaryInstall().version
  if (!semver.satisfies(version, manifest.engine, { includePrerelease: true })) {
    throw new TributaryError('E_PLUGIN', `${who} needs Tributary ${manifest.engine}, but this is Tributary ${version}`, {
      hint: `install a version of the plugin made for Tributary ${version} (from npm: \`tributary plugins install ${pkg}@<version>\`), or upgrade Tributary`,
    })
  }
  if (!existsSync(path.resolve(pkgDir, manifest.entry))) {
    throw new TributaryError('E_PLUGIN', `${who}: its entry ${manifest.entry} is not in the package`, { hint: 'build the plugin before packing it (`npm run build`), and list the built folder in `files` of its package.json' })
  }
  const builtins = await createRegistry({ builtinDir: builtinPluginsDir() })
  if (builtins.get(manifest.kind, manifest.name)) {
    throw new TributaryError('E_PLUGIN', `${who} claims the name of the built-in ${manifest.kind} plugin "${manifest.name}"`, {
      hint: 'built-in plugins cannot be replaced: rename the plugin (`name` in its plugin.json)',
    })
  }
  const other = Object.values(lock.plugins).find((e) => e.package !== pkg && e.kind === manifest.kind && e.name === manifest.name)
  if (other) {
    throw new TributaryError('E_PLUGIN', `${who} has the name of the ${other.kind} plugin "${other.name}" already installed from the package ${other.package}`, {
      hint: `uninstall that one first (\`tributary plugins uninstall ${other.package}\`), or rename this plugin`,
    })
  }

  // The whole staged store must load: this also catches a dependency that is itself a plugin.
  const registry = await createRegistry({ builtinDir: builtinPluginsDir(), extraDirs: [dir] })
  const modules = path.join(dir, 'node_modules')
  const unexpected = registry.list().filter((e) => !e.builtin && e.dir.startsWith(modules + path.sep) && e.dir !== pkgDir && !Object.keys(lock.plugins).some((p) => e.dir === path.join(modules, p)))
  if (unexpected.length > 0) {
    throw new TributaryError('E_PLUGIN', `installing ${pkg} would also bring in the plugin(s) ${unexpected.map((e) => `"${e.manifest.name}" (${path.relative(modules, e.dir)})`).join(', ')} as dependencies`, {
      hint: 'install each plugin yourself, so you see and accept its permissions',
    })
  }
  const entry = registry.list().find((e) => e.dir === pkgDir)!
  const info = await lockInfo(dir, pkg)
  return { package: pkg, manifest, entry, ...info }
}

/** Version, resolved source and integrity of an installed package, from npm's package-lock. */
async function lockInfo(dir: string, pkg: string): Promise<{ version: string; resolved: string; integrity: string }> {
  const lock = JSON.parse(await readFile(path.join(dir, 'package-lock.json'), 'utf8')) as { packages?: Record<string, { version?: string; resolved?: string; integrity?: string }> }
  const p = lock.packages?.[`node_modules/${pkg}`] ?? {}
  const installed = JSON.parse(await readFile(path.join(dir, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }
  return { version: p.version ?? installed.version, resolved: p.resolved ?? '', integrity: p.integrity ?? '' }
}
