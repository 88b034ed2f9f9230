/**
 * `plugins new NAME --kind K`: a TypeScript plugin package that installs and runs as written
 * (its built JS is written too) and whose tests use the conformance kit. `node_modules/tributary`
 * is linked to this install at once, as `npm install` would from the dev dependency, so
 * `tributary plugins test .` works before anything is installed.
 */
import { existsSync } from 'node:fs'
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import semver from 'semver'
import { TributaryError, ValidationError } from '../../errors.js'
import type { PluginKind } from '../../plugin-api.js'
import { validateManifest } from '../../manifest/validate.js'
import { requireCompiledApi } from '../../app/tributary-install.js'
import type { PluginManifest } from '../types.js'
import { TEMPLATES } from './templates.js'
import { GITIGNORE, NPMRC, TSCONFIG, packageJson, readme, testFile } from './files.js'

export interface ScaffoldResult {
  dir: string
  name: string
  kind: PluginKind
  files: string[]
}

export async function scaffoldPlugin(name: string, kind: PluginKind, dir?: string): Promise<ScaffoldResult> {
  const t = requireCompiledApi()
  const tpl = TEMPLATES[kind]
  const v = semver.parse(t.version)!
  const manifest = checkedManifest({
    name,
    version: '0.1.0',
    kind,
    entry: 'dist/index.js',
    description: tpl.description,
    engine: `^${v.major}.${v.minor}.0`,
    config: tpl.config,
    permissions: {},
  })
  const target = path.resolve(dir ?? name.replace(/^@[^/]+\//, ''))
  if (existsSync(target) && (await readdir(target)).length > 0) {
    throw new TributaryError('E_USAGE', `${target} already exists and is not empty`, { hint: 'choose another folder with --dir, or remove that one' })
  }
  const facts = { name, kind, manifest, tributaryRoot: t.root }
  const code = (s: string): string => s.replaceAll('__NAME__', name)
  const files: Record<string, string> = {
    'package.json': packageJson(facts),
    'plugin.json': `${JSON.stringify(manifest, null, 2)}\n`,
    'src/index.ts': code(tpl.ts),
    'dist/index.js': code(tpl.js),
    'tsconfig.json': TSCONFIG,
    'test/plugin.test.mjs': testFile(facts),
    'README.md': readme(facts),
    '.npmrc': NPMRC,
    '.gitignore': GITIGNORE,
  }
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(target, rel)), { recursive: true })
    await writeFile(path.join(target, rel), content)
  }
  await mkdir(path.join(target, 'node_modules'), { recursive: true })
  await symlink(t.root, path.join(target, 'node_modules', 'tributary'), 'dir')
  return { dir: target, name, kind, files: Object.keys(files) }
}

/** The manifest, checked: a NAME that is not a valid plugin name is refused with the schema's words. */
function checkedManifest(m: PluginManifest): PluginManifest {
  try {
    validateManifest(m, 'plugin.json')
    return m
  } catch (err) {
    if (err instanceof ValidationError && err.issues.some((i) => i.path === 'name')) {
      throw new TributaryError('E_USAGE', `"${m.name}" cannot be a plugin name: ${err.issues.find((i) => i.path === 'name')!.message}`, { hint: 'use lowercase letters, digits and -, starting with a letter, e.g. geo-enrich or @acme/geo-enrich' })
    }
    throw err
  }
}
