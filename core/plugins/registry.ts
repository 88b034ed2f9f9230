/**
 * The plugins Tributary can use: built-ins, then community plugins from extra folders. A plugin
 * is identified by (kind, name) — `file` is both a source and a sink — and a community plugin
 * may not take a built-in's identity. Manifests are validated when the registry is created;
 * code is imported only when a pipeline uses the plugin.
 */
import { existsSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { TributaryError, ValidationError, errorMessage, type ValidationIssue } from '../errors.js'
import type { PluginDefinition, PluginKind } from '../plugin-api.js'
import type { JsonPath } from '../config/json-path.js'
import type { Position } from '../config/source-map.js'
import { parseConfigText } from '../config/source-map.js'
import { validateManifest } from '../manifest/validate.js'
import type { PluginEntry, PluginManifest, PluginRegistry } from './types.js'

export interface RegistryOptions {
  /** Folder of built-in plugin folders, each with a plugin.json (see `builtinPluginsDir()`). */
  builtinDir: string
  /**
   * Folders of community plugin folders. A child named `@scope` or `node_modules` is searched
   * one level further, so npm's install layout works as is. A missing folder is skipped.
   */
  extraDirs?: string[]
}

const KINDS: readonly PluginKind[] = ['source', 'transform', 'sink']

/**
 * Built-in plugins sit two folders above this module, in `plugins/<name>/`:
 * - compiled: this is dist/core/plugins/registry.js, plugins are dist/plugins/<name>/ (index.js
 *   with plugin.json copied beside it by scripts/copy-assets.js);
 * - from TS sources (vitest): this is core/plugins/registry.ts, plugins are plugins/<name>/ in
 *   the repository, with index.ts (`load()` falls back from index.js to index.ts).
 * Each layout finds its own plugins, so a stale dist/ never shadows the sources under test.
 */
export function builtinPluginsDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'plugins')
}

export async function createRegistry(opts: RegistryOptions): Promise<PluginRegistry> {
  if (!existsSync(opts.builtinDir)) {
    throw new TributaryError('E_PLUGIN', `the built-in plugins folder ${opts.builtinDir} does not exist`, { hint: 'run `npm run build` (or reinstall Tributary)' })
  }
  const found: PluginEntry[] = []
  const issues: ValidationIssue[] = []
  const read = async (dir: string, builtin: boolean): Promise<void> => {
    try {
      found.push(await readPlugin(dir, builtin))
    } catch (err) {
      if (err instanceof ValidationError) issues.push(...err.issues)
      else throw err
    }
  }
  for (const dir of await pluginFolders(opts.builtinDir)) await read(dir, true)
  for (const extra of opts.extraDirs ?? []) {
    if (!existsSync(extra)) continue
    for (const dir of await pluginFolders(extra)) await read(dir, false)
  }
  if (issues.length > 0) throw new ValidationError('plugins', issues, 'fix the plugin.json files listed, or uninstall those plugins (`tributary plugins uninstall NAME`)')

  const byId = new Map<string, PluginEntry>()
  for (const entry of found) {
    const id = `${entry.manifest.kind}:${entry.manifest.name}`
    const other = byId.get(id)
    if (other) throw conflict(entry, other)
    byId.set(id, entry)
  }
  const list = [...byId.values()].sort((a, b) => Number(b.builtin) - Number(a.builtin) || KINDS.indexOf(a.manifest.kind) - KINDS.indexOf(b.manifest.kind) || a.manifest.name.localeCompare(b.manifest.name))
  return {
    get: (kind, name) => byId.get(`${kind}:${name}`),
    list: () => [...list],
    names: (kind) => list.filter((e) => e.manifest.kind === kind).map((e) => e.manifest.name),
  }
}

function conflict(entry: PluginEntry, other: PluginEntry): TributaryError {
  const { kind, name } = entry.manifest
  if (other.builtin && !entry.builtin) {
    return new TributaryError('E_PLUGIN', `the community plugin in ${entry.dir} claims the name of the built-in ${kind} plugin "${name}"`, {
      hint: 'built-in plugins cannot be replaced: rename the community plugin (its `name` in plugin.json) or uninstall it',
    })
  }
  return new TributaryError('E_PLUGIN', `two ${kind} plugins are named "${name}": ${other.dir} and ${entry.dir}`, { hint: 'uninstall one of them, or rename it in its plugin.json' })
}

/** Folders under `root` that hold a plugin.json (one level, or two under `@scope`/`node_modules`). */
async function pluginFolders(root: string, depth = 0): Promise<string[]> {
  const out: string[] = []
  const children = (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory() || d.isSymbolicLink()).sort((a, b) => a.name.localeCompare(b.name))
  for (const d of children) {
    const dir = path.join(root, d.name)
    if (existsSync(path.join(dir, 'plugin.json'))) out.push(dir)
    else if (depth === 0 && (d.name.startsWith('@') || d.name === 'node_modules')) out.push(...(await pluginFolders(dir, d.name === 'node_modules' ? 0 : 1)))
  }
  return out
}

/** One plugin folder as a registry entry (manifest validated, code loaded on demand). */
export async function readPlugin(dir: string, builtin: boolean): Promise<PluginEntry> {
  const file = path.join(dir, 'plugin.json')
  const text = await readFile(file, 'utf8')
  // JSON.parse first: the position-keeping parser costs ~10 ms a file at every start, and its
  // positions are needed only to report a problem (install-time checks use it in full).
  let value: unknown
  let locate: (p: JsonPath) => Position | undefined
  try {
    value = JSON.parse(text)
    locate = (p) => parseConfigText(text, file).locate(p)
  } catch {
    const parsed = parseConfigText(text, file)
    ;({ value, locate } = parsed)
  }
  const manifest = validateManifest(value, file, { locate, checkConfigSchema: !builtin })
  let loading: Promise<PluginDefinition> | undefined
  return {
    manifest,
    dir,
    builtin,
    load() {
      // Import once; a failed import is not cached, so a fixed plugin loads on the next try.
      loading ??= loadDefinition(manifest, dir).catch((err: unknown) => {
        loading = undefined
        throw err
      })
      return loading
    },
  }
}

async function loadDefinition(m: PluginManifest, dir: string): Promise<PluginDefinition> {
  const who = `plugin "${m.name}" (${m.kind})`
  const entry = entryFile(dir, m.entry)
  if (!entry) {
    throw new TributaryError('E_PLUGIN', `${who}: its entry ${path.join(dir, m.entry)} does not exist`, { hint: 'build the plugin, or fix `entry` in its plugin.json' })
  }
  let mod: { default?: unknown }
  try {
    mod = (await import(pathToFileURL(entry).href)) as { default?: unknown }
  } catch (err) {
    throw new TributaryError('E_PLUGIN', `${who} failed to load ${entry}: ${errorMessage(err)}`, { cause: err, hint: 'fix the plugin code, or reinstall the plugin' })
  }
  const def = mod.default as Partial<PluginDefinition> | undefined
  const define = `define${m.kind[0]!.toUpperCase()}${m.kind.slice(1)}`
  if (def === null || typeof def !== 'object' || typeof def.open !== 'function' || !KINDS.includes(def.kind as PluginKind)) {
    throw new TributaryError('E_PLUGIN', `${who}: ${entry} must have a default export made with ${define}() from tributary/plugin, but its default export is ${describe(mod.default)}`, {
      hint: `end the module with \`export default ${define}({ open(ctx) { ... } })\``,
    })
  }
  if (def.kind !== m.kind) {
    throw new TributaryError('E_PLUGIN', `${who}: its manifest says kind "${m.kind}" but ${entry} exports a ${String(def.kind)}`, {
      hint: `make them agree: \`kind\` in plugin.json, or ${define}() in the code`,
    })
  }
  return def as PluginDefinition
}

/** The entry file; from TS sources (vitest), `index.js` is found as `index.ts`. */
function entryFile(dir: string, entry: string): string | undefined {
  const js = path.resolve(dir, entry)
  if (existsSync(js)) return js
  const ts = js.replace(/\.(c|m)?js$/, '.$1ts')
  return ts !== js && existsSync(ts) ? ts : undefined
}

function describe(v: unknown): string {
  if (v === undefined) return 'missing'
  if (v === null) return 'null'
  if (typeof v === 'object') return `an object without ${'kind' in v ? 'an `open` function' : 'a valid `kind`'}`
  return `a ${typeof v}`
}
