/**
 * The plugin store's transactions without npm: publish by symlink swap, complete rollback,
 * cleanup of what a killed command left, and two commands on one home serialized by the lock.
 * (Needs the compiled plugin API, which every store links to: `npm run build`.)
 */
import { existsSync } from 'node:fs'
import { mkdir, readFile, readdir, readlink, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { withStoreTransaction } from '../../core/plugins/store/transaction.js'
import { refreshApiLink } from '../../core/plugins/store/api-link.js'
import { tributaryInstall } from '../../core/app/tributary-install.js'
import { assertBuilt } from '../helpers/cli.js'
import { makeTempDir } from '../helpers/tmp.js'
import { snapshotHome } from '../helpers/home-snapshot.js'

let tmp: { dir: string; remove(): Promise<void> }
beforeAll(async () => {
  assertBuilt()
  tmp = await makeTempDir('store-tx')
})
afterAll(() => tmp.remove())

const put = (name: string, content: string) => (tx: { dir: string }) => writeFile(path.join(tx.dir, name), content).then(() => ({ result: name, commit: true }))

describe('plugin store transactions', () => {
  it('the first commit makes <home>/plugins a relative symlink to a generation holding the store package and the API link', async () => {
    const home = path.join(tmp.dir, 'a')
    await withStoreTransaction(home, put('marker', '1'))
    const target = await readlink(path.join(home, 'plugins'))
    expect(target).toMatch(/^plugins\.d\/g-[a-z0-9]+-[0-9a-f]{8}$/)
    expect(await readFile(path.join(home, 'plugins', 'marker'), 'utf8')).toBe('1')
    expect(JSON.parse(await readFile(path.join(home, 'plugins', 'package.json'), 'utf8'))).toMatchObject({ dependencies: { tributary: 'file:api' } })
    const linked = await import(path.join(home, 'plugins', 'node_modules', 'tributary', 'plugin.js'))
    expect(typeof linked.defineTransform).toBe('function')
  })

  it('a failing change leaves every file as it was; a new commit replaces the generation and removes the old one', async () => {
    const home = path.join(tmp.dir, 'a')
    const before = await snapshotHome(home)
    await expect(withStoreTransaction(home, async (tx) => {
      await writeFile(path.join(tx.dir, 'marker'), '2')
      throw new Error('npm failed')
    })).rejects.toThrow('npm failed')
    expect(await snapshotHome(home)).toEqual(before)
    const old = await readlink(path.join(home, 'plugins'))
    await withStoreTransaction(home, put('marker', '3'))
    expect(await readlink(path.join(home, 'plugins'))).not.toBe(old)
    expect(existsSync(path.join(home, old))).toBe(false)
    expect(await readFile(path.join(home, 'plugins', 'marker'), 'utf8')).toBe('3')
  })

  it('cleans up what a killed command left: staging folders, unpublished generations, temporary links, a dead holder\'s lock', async () => {
    const home = path.join(tmp.dir, 'a')
    const current = await readlink(path.join(home, 'plugins'))
    await mkdir(path.join(home, 'plugins.d', '.staging-dead'), { recursive: true })
    await mkdir(path.join(home, 'plugins.d', 'g-orphan'))
    await symlink('plugins.d/g-orphan', path.join(home, '.plugins-dead'))
    await writeFile(path.join(home, 'plugins.d', '.lock'), '999999999') // no such pid
    await withStoreTransaction(home, async () => ({ result: undefined, commit: false }))
    expect(await readdir(path.join(home, 'plugins.d'))).toEqual([path.basename(current)])
    expect((await readdir(home)).sort()).toEqual(['plugins', 'plugins.d'])
    expect(await readlink(path.join(home, 'plugins'))).toBe(current)
  })

  it('two commands on one home run one after the other (the lock), neither change is lost', async () => {
    const home = path.join(tmp.dir, 'b')
    const slow = withStoreTransaction(home, async (tx) => {
      // Not a synchronization: a window in which an unlocked second transaction would copy the
      // same base and lose this change. With the lock, the result is the same however long.
      await new Promise((r) => setTimeout(r, 300))
      await writeFile(path.join(tx.dir, 'one'), '1')
      return { result: 1, commit: true }
    })
    const fast = withStoreTransaction(home, put('two', '2'))
    await Promise.all([slow, fast])
    expect(existsSync(path.join(home, 'plugins', 'one')) && existsSync(path.join(home, 'plugins', 'two'))).toBe(true)
  })

  it('repoints the API link when it points at another install (Tributary moved or upgraded)', async () => {
    const home = path.join(tmp.dir, 'b')
    const file = path.join(home, 'plugins', 'node_modules', 'tributary', 'plugin.js')
    await writeFile(file, "export * from 'file:///old/place/dist/core/plugin-api.js'\n")
    await refreshApiLink(path.join(home, 'plugins'))
    expect(await readFile(file, 'utf8')).toContain(tributaryInstall().apiModule)
  })
})
