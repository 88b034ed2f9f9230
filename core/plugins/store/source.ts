/**
 * What `plugins install` was given — an npm name (with an optional range or tag), a tarball or a
 * folder — and the argument npm installs it from. Folders and tarballs are first turned into a
 * tarball inside the store (`npm pack` for a folder): the store then holds what it installed,
 * npm records its integrity, and a later install or update never depends on the original path
 * still being there.
 */
import { existsSync } from 'node:fs'
import { copyFile, mkdir, stat } from 'node:fs/promises'
import path from 'node:path'
import { TributaryError } from '../../errors.js'
import { runNpm } from './npm.js'
import type { PluginSource, StoreLog } from './types.js'

export const TARBALLS = 'tarballs'

export async function classifySource(spec: string, cwd = process.cwd()): Promise<PluginSource> {
  const abs = path.resolve(cwd, spec)
  const st = await stat(abs).catch(() => undefined)
  if (st?.isDirectory()) {
    if (!existsSync(path.join(abs, 'package.json'))) {
      throw new TributaryError('E_PLUGIN', `${abs} is not a plugin package: it has no package.json`, { hint: 'a plugin is an npm package with a plugin.json; `tributary plugins new NAME` writes one' })
    }
    return { type: 'folder', spec: abs }
  }
  if (st?.isFile()) {
    if (!/\.(tgz|tar\.gz|tar)$/.test(abs)) throw new TributaryError('E_PLUGIN', `${abs} is not a tarball (.tgz)`, { hint: 'give an npm package name, a folder, or a tarball made by `npm pack`' })
    return { type: 'tarball', spec: abs }
  }
  // Anything else goes to npm (names, ranges, tags, URLs, git); what looks like a path must exist.
  if (/^(\.{1,2}[\\/]|[\\/]|~)/.test(spec) || (/\.(tgz|tar\.gz|tar)$/.test(spec) && !/^[a-z+]+:/.test(spec))) {
    throw new TributaryError('E_PLUGIN', `${abs} does not exist`, { hint: 'check the path of the plugin folder or tarball' })
  }
  return { type: 'npm', spec }
}

/** The argument for `npm install` in the store folder `dir`, copying a tarball or packing a folder into it. */
export async function stageSource(source: PluginSource, dir: string, log: StoreLog): Promise<string> {
  if (source.type === 'npm') return source.spec
  const into = path.join(dir, TARBALLS)
  await mkdir(into, { recursive: true })
  if (source.type === 'tarball') {
    if (!existsSync(source.spec)) throw new TributaryError('E_PLUGIN', `the tarball ${source.spec} no longer exists`, { hint: 'install the plugin again from where it is now' })
    const file = path.join(into, path.basename(source.spec))
    await copyFile(source.spec, file)
    return `./${TARBALLS}/${path.basename(file)}`
  }
  if (!existsSync(source.spec)) throw new TributaryError('E_PLUGIN', `the plugin folder ${source.spec} no longer exists`, { hint: 'install the plugin again from where it is now' })
  log.progress(`packing ${source.spec}`)
  // --ignore-scripts: no `prepack` build; the folder must already hold its built JS.
  const { stdout } = await runNpm(['pack', source.spec, '--pack-destination', into, '--ignore-scripts', '--json'], dir, `npm pack ${source.spec}`, log)
  const packed = JSON.parse(stdout.slice(stdout.indexOf('['))) as { filename: string }[]
  return `./${TARBALLS}/${packed[0]!.filename}`
}
