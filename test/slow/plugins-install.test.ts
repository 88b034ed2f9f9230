/**
 * `plugins install|update|uninstall` through the compiled CLI with the real npm: from a folder
 * and a tarball, and complete rollback (same files on disk, same lockfile) when the manifest is
 * bad, the engine range excludes this Tributary, npm fails (a dependency that does not exist on
 * the registry), the name is a built-in's or another plugin's, or nobody accepted the permissions.
 */
import { execFile } from 'node:child_process'
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertBuilt, runCli, type CliResult } from '../helpers/cli.js'
import { makeTempDir } from '../helpers/tmp.js'
import { snapshotHome } from '../helpers/home-snapshot.js'

const exec = promisify(execFile)
let tmp: { dir: string; remove(): Promise<void> }
let home: string

beforeAll(async () => {
  assertBuilt()
  tmp = await makeTempDir('plugins-install')
  home = path.join(tmp.dir, 'home')
})
afterAll(() => tmp.remove())

const cli = (...args: string[]): Promise<CliResult> => runCli([...args, '--home', home], { ...process.env, TRIBUTARY_LOG_LEVEL: 'warn' })

interface PluginSpec {
  pkg: string
  name?: string
  version?: string
  engine?: string
  kind?: string
  manifest?: Record<string, unknown>
  dependencies?: Record<string, string>
  permissions?: Record<string, unknown>
}

/** A built plugin package folder (plain JS importing tributary/plugin, as a compiled plugin does). */
async function pluginFolder(spec: PluginSpec): Promise<string> {
  const dir = path.join(tmp.dir, 'src', `${spec.pkg}-${spec.version ?? '1.0.0'}-${Math.random().toString(36).slice(2, 8)}`)
  await mkdir(path.join(dir, 'dist'), { recursive: true })
  const pkg = { name: spec.pkg, version: spec.version ?? '1.0.0', type: 'module', files: ['dist', 'plugin.json'], ...(spec.dependencies ? { dependencies: spec.dependencies } : {}) }
  const manifest = {
    name: spec.name ?? spec.pkg,
    version: spec.version ?? '1.0.0',
    kind: spec.kind ?? 'transform',
    entry: 'dist/index.js',
    description: 'A test plugin that tags records.',
    engine: spec.engine ?? '>=0.1.0',
    config: { type: 'object', additionalProperties: false, properties: { tag: { type: 'string', default: 'seen', description: 'Value of the `tag` field.' } } },
    permissions: spec.permissions ?? { network: ['api.example.com:443'], env: ['GEO_TOKEN'] },
    ...spec.manifest,
  }
  await writeFile(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2))
  await writeFile(path.join(dir, 'plugin.json'), JSON.stringify(manifest, null, 2))
  await writeFile(
    path.join(dir, 'dist', 'index.js'),
    "import { defineTransform } from 'tributary/plugin'\nexport default defineTransform({ open: (ctx) => ({ process: (rs) => rs.map((r) => ({ ...r, tag: ctx.config.tag })) }) })\n",
  )
  return dir
}

async function pack(dir: string): Promise<string> {
  const { stdout } = await exec('npm', ['pack', dir, '--pack-destination', path.join(tmp.dir), '--json', '--ignore-scripts'], { cwd: tmp.dir })
  return path.join(tmp.dir, (JSON.parse(stdout.slice(stdout.indexOf('['))) as { filename: string }[])[0]!.filename)
}

async function lock(): Promise<{ plugins: Record<string, Record<string, unknown>> }> {
  return JSON.parse(await readFile(path.join(home, 'plugins', 'tributary-lock.json'), 'utf8')) as { plugins: Record<string, Record<string, unknown>> }
}

async function listed(): Promise<Record<string, unknown>[]> {
  const r = await cli('plugins', 'list', '--json')
  expect(r.code, r.stderr).toBe(0)
  return JSON.parse(r.stdout) as Record<string, unknown>[]
}

/** Runs a failing install and checks it changed nothing: same paths on disk, same lockfile. */
async function expectRolledBack(args: string[], message: RegExp): Promise<CliResult> {
  const before = await snapshotHome(home)
  const r = await cli(...args)
  expect(r.code, r.stdout + r.stderr).not.toBe(0)
  expect(r.stderr).toMatch(message)
  expect(await snapshotHome(home)).toEqual(before)
  return r
}

describe('plugins install / uninstall / update', () => {
  it('a failed first install leaves no trace at all (the home does not even exist)', async () => {
    const dir = await pluginFolder({ pkg: 'too-new', engine: '>=99.0.0' })
    const r = await cli('plugins', 'install', dir, '--yes')
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('Error: plugin "too-new" 1.0.0 (transform) needs Tributary >=99.0.0, but this is Tributary 0.1.0')
    expect((await snapshotHome(home)).paths).toEqual([])
  })

  it('installs from a folder (copied, not linked): listed as community with its permissions, locked with source and integrity', async () => {
    const dir = await pluginFolder({ pkg: 'tagger' })
    const r = await cli('plugins', 'install', dir, '--yes')
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('installed tagger 1.0.0: transform plugin "tagger"; use it as `{ use: tagger }`')
    expect(r.stderr).toContain('It asks to:\n    - connect to: api.example.com:443\n    - see environment variables: GEO_TOKEN')
    expect((await listed()).find((p) => p.name === 'tagger')).toMatchObject({ kind: 'transform', version: '1.0.0', origin: 'community', permissions: { network: ['api.example.com:443'], env: ['GEO_TOKEN'] } })
    expect((await lock()).plugins.tagger).toMatchObject({
      package: 'tagger',
      name: 'tagger',
      kind: 'transform',
      version: '1.0.0',
      source: { type: 'folder', spec: dir },
      resolved: 'file:tarballs/tagger-1.0.0.tgz',
      integrity: expect.stringMatching(/^sha512-[A-Za-z0-9+/]+=*$/),
    })
    const { stdout: real } = await exec('readlink', ['-f', path.join(home, 'plugins', 'node_modules', 'tagger')])
    expect(real.trim().startsWith(path.join(home, 'plugins.d'))).toBe(true) // a copy in the store, not a link to the folder
  })

  it('installs from a tarball, under another package name than its plugin name', async () => {
    const tgz = await pack(await pluginFolder({ pkg: 'tributary-plugin-shout', name: 'shout', permissions: {} }))
    const r = await cli('plugins', 'install', tgz, '--yes', '--json')
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ package: 'tributary-plugin-shout', name: 'shout', source: { type: 'tarball', spec: tgz }, integrity: expect.stringMatching(/^sha512-/) })
    expect(r.stderr).toContain('- no permissions: no network, files, environment variables or child processes')
    expect((await listed()).filter((p) => p.origin === 'community').map((p) => p.name)).toEqual(['shout', 'tagger'])
  })

  it('rolls back a bad manifest, listing its errors', async () => {
    const dir = await pluginFolder({ pkg: 'bad-manifest', manifest: { kind: 'transfrom', engine: 'soon' } })
    const r = await expectRolledBack(['plugins', 'install', dir, '--yes'], /the plugin manifest bad-manifest\/plugin\.json is invalid \(2 errors\)/)
    expect(r.stderr).toMatch(/bad-manifest\/plugin\.json:\d+:\d+: kind: must be one of "source", "transform", "sink" .*\(did you mean `transform`\?\)/)
    expect(r.stderr).toMatch(/engine: must be a semver range such as >=0\.1\.0 or \^1\.2\.0 \(got "soon"\)/)
  })

  it('rolls back an engine range that excludes this Tributary', async () => {
    await expectRolledBack(['plugins', 'install', await pluginFolder({ pkg: 'future', engine: '^2.0.0' }), '--yes'], /needs Tributary \^2\.0\.0, but this is Tributary 0\.1\.0/)
  })

  it('rolls back a failing npm install (a dependency that is not on the registry)', async () => {
    const missing = `tributary-test-surely-missing-${Date.now().toString(36)}`
    const dir = await pluginFolder({ pkg: 'needs-missing', dependencies: { [missing]: '^1.0.0' } })
    const r = await expectRolledBack(['plugins', 'install', dir, '--yes'], /npm install .* failed: 404 Not Found - GET .*tributary-test-surely-missing/)
    expect(r.stderr).toContain('Hint: check the package name')
  })

  it('an npm name is fetched from the registry; a package without plugin.json is refused and rolled back', async () => {
    await expectRolledBack(['plugins', 'install', 'is-number@7.0.0', '--yes'], /the package is-number is not a Tributary plugin: it has no plugin\.json/)
  })

  it('refuses a plugin claiming a built-in name, or the name of another installed plugin', async () => {
    await expectRolledBack(['plugins', 'install', await pluginFolder({ pkg: 'my-filter', name: 'filter' }), '--yes'], /plugin "filter" 1\.0\.0 \(transform\) claims the name of the built-in transform plugin "filter"/)
    await expectRolledBack(['plugins', 'install', await pluginFolder({ pkg: 'other-tagger', name: 'tagger' }), '--yes'], /has the name of the transform plugin "tagger" already installed from the package tagger/)
  })

  it('without a terminal and without --yes, shows the permissions and refuses', async () => {
    const r = await expectRolledBack(['plugins', 'install', await pluginFolder({ pkg: 'polite' })], /polite needs your consent to its permissions, and there is no terminal to ask in/)
    expect(r.stderr).toContain('- connect to: api.example.com:443')
    expect(r.stderr).toContain('Hint: read the permissions above and run again with --yes to accept them')
  })

  it('an installed plugin runs in a pipeline test (tributary/plugin resolves to this install)', async () => {
    const pipeline = path.join(tmp.dir, 'tag.yaml')
    await writeFile(pipeline, 'name: tag\nsource: { use: generate, config: { template: { id: "i" } } }\ntransforms:\n  - { use: tagger }\n  - { use: shout, config: { tag: loud } }\nsinks: [{ use: stdout }]\n')
    await writeFile(path.join(tmp.dir, 'tag.test.yaml'), 'tests:\n  - name: tags\n    input: [{ id: 1 }]\n    expect: [{ id: 1, tag: loud }]\n')
    const r = await cli('test', pipeline)
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toContain('✓ tags')
  })

  it('update reinstalls from the recorded folder; a version asking for more permissions needs consent again', async () => {
    const dir = (await lock()).plugins.tagger!.source as { spec: string }
    const manifest = JSON.parse(await readFile(path.join(dir.spec, 'plugin.json'), 'utf8')) as Record<string, unknown>
    await writeFile(path.join(dir.spec, 'plugin.json'), JSON.stringify({ ...manifest, version: '1.1.0', permissions: { network: ['api.example.com:443', 'backup.example.com'], env: ['GEO_TOKEN'] } }))
    await writeFile(path.join(dir.spec, 'package.json'), JSON.stringify({ ...(JSON.parse(await readFile(path.join(dir.spec, 'package.json'), 'utf8')) as object), version: '1.1.0' }))
    const refused = await expectRolledBack(['plugins', 'update', 'tagger'], /tagger needs your consent/)
    expect(refused.stderr).toContain('- connect to: backup.example.com (new in this version)')
    const r = await cli('plugins', 'update', '--yes')
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('updated tagger 1.0.0 → 1.1.0')
    expect(r.stdout).toContain('tributary-plugin-shout 1.0.0 is up to date')
    expect((await lock()).plugins.tagger).toMatchObject({ version: '1.1.0', resolved: 'file:tarballs/tagger-1.1.0.tgz' })
    expect((await snapshotHome(home)).paths.filter((p) => p.includes('tarballs/tagger'))).toEqual([expect.stringMatching(/tarballs\/tagger-1\.1\.0\.tgz$/)])
  })

  it('uninstalls by plugin or package name; a built-in or unknown name is refused', async () => {
    expect((await cli('plugins', 'uninstall', 'shout')).code).toBe(0)
    const r = await cli('plugins', 'uninstall', 'tagger', '--json')
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ package: 'tagger', version: '1.1.0' })
    expect((await listed()).filter((p) => p.origin === 'community')).toEqual([])
    expect((await lock()).plugins).toEqual({})
    expect((await cli('plugins', 'uninstall', 'filter')).stderr).toContain('"filter" is a built-in plugin; only installed community plugins can be removed or updated')
    expect((await cli('plugins', 'uninstall', 'nope')).stderr).toContain('no community plugin named "nope" is installed')
    // Only the current generation remains: no staging folders, no old generations, no lock file.
    expect((await snapshotHome(home)).paths.filter((p) => /^plugins\.d\/[^/]+\/?$/.test(p))).toEqual([expect.stringMatching(/^plugins\.d\/g-[^/]+\/$/)])
  })

  it('a plain plugins folder made by `init` becomes the store on the first install, its contents kept', async () => {
    const home2 = path.join(tmp.dir, 'home2')
    await mkdir(path.join(home2, 'plugins', 'hand-made'), { recursive: true })
    await cp(await pluginFolder({ pkg: 'hand-made' }), path.join(home2, 'plugins', 'hand-made'), { recursive: true })
    const r = await runCli(['plugins', 'install', await pluginFolder({ pkg: 'packaged' }), '--yes', '--home', home2], process.env)
    expect(r.code, r.stderr).toBe(0)
    const names = (JSON.parse((await runCli(['plugins', 'list', '--json', '--home', home2], process.env)).stdout) as { name: string; origin: string }[]).filter((p) => p.origin === 'community').map((p) => p.name)
    expect(names.sort()).toEqual(['hand-made', 'packaged'])
  })
})
