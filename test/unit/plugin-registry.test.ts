import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { TributaryError, ValidationError } from '../../core/errors.js'
import { builtinPluginsDir, createRegistry } from '../../core/plugins/registry.js'

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'plugins')

let tmp: string
beforeEach(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'trib-registry-'))
})
afterEach(() => rm(tmp, { recursive: true, force: true }))

/** Writes a plugin folder: plugin.json from `manifest` (over sane defaults) and index.js from `code`. */
async function plugin(dir: string, manifest: Record<string, unknown>, code?: string): Promise<string> {
  await mkdir(dir, { recursive: true })
  const m = { version: '1.0.0', entry: 'index.js', description: 'A test plugin.', engine: '>=0.1.0', config: { type: 'object' }, ...manifest }
  await writeFile(path.join(dir, 'plugin.json'), JSON.stringify(m, null, 2))
  await writeFile(path.join(dir, 'index.js'), code ?? `export default { kind: '${String(m.kind)}', open: () => ({}) }\n`)
  return dir
}

async function failure(p: Promise<unknown>): Promise<TributaryError> {
  try {
    await p
  } catch (err) {
    if (err instanceof TributaryError) return err
    throw err
  }
  throw new Error('expected a failure')
}

describe('createRegistry', () => {
  it('finds plugins by (kind, name): file is both a source and a sink', async () => {
    const r = await createRegistry({ builtinDir: fixtures })
    expect(r.get('source', 'file')?.manifest.kind).toBe('source')
    expect(r.get('sink', 'file')?.manifest.kind).toBe('sink')
    expect(r.get('transform', 'file')).toBeUndefined()
    expect(r.names('sink')).toEqual(['clickhouse', 'file', 'stdout'])
    expect(r.names('transform')).toEqual(['filter', 'map'])
    expect(r.list().every((e) => e.builtin)).toBe(true)
    expect(r.get('sink', 'file')!.dir).toBe(path.join(fixtures, 'file-sink'))
  })

  it('load() imports the entry and checks its default export', async () => {
    const r = await createRegistry({ builtinDir: fixtures })
    const def = await r.get('transform', 'filter')!.load()
    expect(def.kind).toBe('transform')
    expect(await r.get('transform', 'filter')!.load()).toBe(def) // imported once
  })

  it('adds community plugins from extra folders, @scope folders and node_modules included; a missing folder is skipped', async () => {
    await plugin(path.join(tmp, 'geoip'), { name: 'geoip', kind: 'transform' })
    await plugin(path.join(tmp, '@acme', 'enrich'), { name: '@acme/enrich', kind: 'transform' })
    await plugin(path.join(tmp, 'node_modules', 'tributary-s3'), { name: 's3', kind: 'sink' })
    const r = await createRegistry({ builtinDir: fixtures, extraDirs: [tmp, path.join(tmp, 'nope')] })
    expect(r.names('transform')).toEqual(['filter', 'map', '@acme/enrich', 'geoip'])
    expect(r.get('transform', 'geoip')!.builtin).toBe(false)
    expect(r.get('sink', 's3')).toBeDefined()
  })

  it('refuses a community plugin that claims a built-in (kind, name)', async () => {
    await plugin(path.join(tmp, 'evil-filter'), { name: 'filter', kind: 'transform' })
    const err = await failure(createRegistry({ builtinDir: fixtures, extraDirs: [tmp] }))
    expect(err.code).toBe('E_PLUGIN')
    expect(err.message).toBe(`the community plugin in ${path.join(tmp, 'evil-filter')} claims the name of the built-in transform plugin "filter"`)
    expect(err.hint).toMatch(/rename the community plugin/)
  })

  it('a community plugin may share a built-in name under another kind', async () => {
    await plugin(path.join(tmp, 'filter-sink'), { name: 'filter', kind: 'sink' })
    const r = await createRegistry({ builtinDir: fixtures, extraDirs: [tmp] })
    expect(r.get('sink', 'filter')!.builtin).toBe(false)
  })

  it('refuses invalid manifests, listing every error of every plugin with file and line', async () => {
    await plugin(path.join(tmp, 'a'), { name: 'a', kind: 'transfrom' })
    await plugin(path.join(tmp, 'b'), { name: 'B', kind: 'sink' })
    await mkdir(path.join(tmp, 'c'))
    await writeFile(path.join(tmp, 'c', 'plugin.json'), '{ "name": "c",, }')
    const err = await failure(createRegistry({ builtinDir: fixtures, extraDirs: [tmp] }))
    expect(err).toBeInstanceOf(ValidationError)
    const issues = (err as ValidationError).issues
    expect(issues.map((i) => [path.relative(tmp, i.file!), i.path])).toEqual([
      ['a/plugin.json', 'kind'],
      ['b/plugin.json', 'name'],
      ['c/plugin.json', ''],
    ])
    expect(issues[0]).toMatchObject({ line: 10, column: 3, suggestion: 'transform' }) // `kind` is written last
  })

  it('load() names the plugin when the default export is missing or of the wrong kind', async () => {
    await plugin(path.join(tmp, 'nodefault'), { name: 'nodefault', kind: 'sink' }, 'export const x = 1\n')
    await plugin(path.join(tmp, 'wrongkind'), { name: 'wrongkind', kind: 'sink' }, "export default { kind: 'transform', open() {} }\n")
    await plugin(path.join(tmp, 'throws'), { name: 'throws', kind: 'sink' }, "throw new Error('boom')\n")
    await plugin(path.join(tmp, 'noentry'), { name: 'noentry', kind: 'sink', entry: 'dist/index.js' })
    const r = await createRegistry({ builtinDir: fixtures, extraDirs: [tmp] })
    expect((await failure(r.get('sink', 'nodefault')!.load())).message).toMatch(/^plugin "nodefault" \(sink\): .*index\.js must have a default export made with defineSink\(\) from tributary\/plugin, but its default export is missing$/)
    expect((await failure(r.get('sink', 'wrongkind')!.load())).message).toMatch(/^plugin "wrongkind" \(sink\): its manifest says kind "sink" but .*index\.js exports a transform$/)
    expect((await failure(r.get('sink', 'throws')!.load())).message).toMatch(/^plugin "throws" \(sink\) failed to load .*index\.js: boom$/)
    expect((await failure(r.get('sink', 'noentry')!.load())).message).toMatch(/^plugin "noentry" \(sink\): its entry .*dist\/index\.js does not exist$/)
  })

  it('a missing built-in folder is a clear error', async () => {
    const err = await failure(createRegistry({ builtinDir: path.join(tmp, 'none') }))
    expect(err.message).toMatch(/built-in plugins folder .* does not exist/)
  })
})

describe('builtinPluginsDir', () => {
  it('from TS sources, is plugins/ at the repository root (index.ts is loaded for index.js)', () => {
    expect(builtinPluginsDir()).toBe(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'plugins'))
  })

  it('loads a TS entry when only index.ts exists (running from sources)', async () => {
    const dir = path.join(tmp, 'tsplug')
    await plugin(dir, { name: 'tsplug', kind: 'sink' })
    await rm(path.join(dir, 'index.js'))
    await cp(path.join(fixtures, 'stdout', 'index.js'), path.join(dir, 'index.ts'))
    const r = await createRegistry({ builtinDir: tmp })
    expect((await r.get('sink', 'tsplug')!.load()).kind).toBe('sink')
  })
})
