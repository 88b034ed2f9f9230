/**
 * How an installed plugin's `import … from 'tributary/plugin'` finds this install's API without
 * `tributary` on the public registry (the name there belongs to an unrelated package): the store
 * has a tiny local package named `tributary` (`api/`, a `file:` dependency of the store, so npm
 * keeps it at `node_modules/tributary` instead of pruning it) whose `./plugin` export re-exports
 * this install's compiled dist/core/plugin-api.js by absolute URL.
 *
 * Chosen over a loader hook because plain package resolution works in every process that may
 * load a plugin (the CLI, a worker, a child process for isolation, vitest), needs no flag, and a
 * plugin's `peerDependencies: { tributary }` is satisfied by it instead of fetching the unrelated
 * package. The link is rewritten whenever it points elsewhere (Tributary moved or upgraded).
 */
import { existsSync } from 'node:fs'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { requireCompiledApi, tributaryInstall } from '../../app/tributary-install.js'

/** The store's own package.json: the API link plus one dependency per installed plugin. */
export const STORE_PACKAGE = {
  name: 'tributary-plugins',
  private: true,
  description: 'Community plugins of this Tributary home, managed by `tributary plugins install|update|uninstall`: do not edit.',
  dependencies: { tributary: 'file:api' },
}

function apiFiles(): Record<string, string> {
  const t = tributaryInstall()
  const pkg = {
    name: 'tributary',
    version: t.version,
    description: `The plugin API of the Tributary install in ${t.root} (written by \`tributary plugins\`).`,
    type: 'module',
    exports: { './plugin': { types: './plugin.d.ts', default: './plugin.js' }, './package.json': './package.json' },
  }
  return {
    'package.json': `${JSON.stringify(pkg, null, 2)}\n`,
    'plugin.js': `export * from ${JSON.stringify(pathToFileURL(t.apiModule).href)}\n`,
    'plugin.d.ts': `export * from ${JSON.stringify(t.apiTypes.replace(/\.d\.ts$/, '.js'))}\n`,
  }
}

async function writeIfChanged(dir: string, files: Record<string, string>): Promise<boolean> {
  let changed = false
  await mkdir(dir, { recursive: true })
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name)
    if ((await readFile(file, 'utf8').catch(() => undefined)) === content) continue
    await writeFile(`${file}.tmp`, content)
    await rename(`${file}.tmp`, file)
    changed = true
  }
  return changed
}

/** Writes `api/` (the source npm copies) and `node_modules/tributary/` (what Node resolves) in a store folder. */
export async function writeApiLink(storeDir: string): Promise<void> {
  requireCompiledApi()
  const files = apiFiles()
  await writeIfChanged(path.join(storeDir, 'api'), files)
  await writeIfChanged(path.join(storeDir, 'node_modules', 'tributary'), files)
}

/**
 * Repoints an existing store's link at the running install when it points elsewhere, so an
 * upgraded or moved Tributary keeps its installed plugins working. Cheap when nothing changed.
 */
export async function refreshApiLink(storeDir: string): Promise<void> {
  const linked = path.join(storeDir, 'node_modules', 'tributary', 'plugin.js')
  if (!existsSync(linked) || !existsSync(tributaryInstall().apiModule)) return
  if ((await readFile(linked, 'utf8').catch(() => '')) === apiFiles()['plugin.js']) return
  await writeApiLink(storeDir)
}
