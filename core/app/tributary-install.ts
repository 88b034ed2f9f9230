/**
 * The Tributary install this code runs from: its root folder, its version (plugins' `engine`
 * ranges are checked against it) and the compiled public plugin API that installed plugins
 * import as `tributary/plugin`.
 */
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { TributaryError } from '../errors.js'

export interface TributaryInstall {
  /** Folder holding Tributary's package.json. */
  root: string
  version: string
  /** dist/core/plugin-api.js: what `tributary/plugin` resolves to for installed plugins. */
  apiModule: string
  /** Its type declarations, for editors and tsc. */
  apiTypes: string
}

let found: TributaryInstall | undefined

/**
 * Walks up from this module to the package.json named `tributary`: the same lookup works from
 * dist/core/app (compiled) and core/app (sources under vitest). The plugin API is always the
 * compiled one, since Node cannot import .ts.
 */
export function tributaryInstall(): TributaryInstall {
  if (found) return found
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const pkg = path.join(dir, 'package.json')
    if (existsSync(pkg)) {
      const json = JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string; version?: string }
      if (json.name === 'tributary' && typeof json.version === 'string') {
        found = {
          root: dir,
          version: json.version,
          apiModule: path.join(dir, 'dist', 'core', 'plugin-api.js'),
          apiTypes: path.join(dir, 'dist', 'core', 'plugin-api.d.ts'),
        }
        return found
      }
    }
    const up = path.dirname(dir)
    if (up === dir) throw new TributaryError('E_INTERNAL', 'cannot find the package.json of the Tributary install', { hint: 'reinstall Tributary' })
    dir = up
  }
}

/** Throws unless the compiled plugin API exists (it is what installed plugins import). */
export function requireCompiledApi(): TributaryInstall {
  const t = tributaryInstall()
  if (!existsSync(t.apiModule)) {
    throw new TributaryError('E_INTERNAL', `the compiled plugin API ${t.apiModule} is missing`, { hint: 'run `npm run build` in the Tributary folder (or reinstall Tributary)' })
  }
  return t
}
