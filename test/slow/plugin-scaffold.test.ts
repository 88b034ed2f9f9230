/**
 * The path a plugin author takes, through the compiled CLI: `plugins new NAME --kind transform
 * --dir DIR`, `plugins install DIR --yes` (no build, no npm install in DIR first), `plugins list
 * --json`, a pipeline stage `{ use: NAME }` with no config run on a real nats-server (records
 * pass through), `plugins uninstall NAME`; then the package's own `npm install && npm test`
 * (TypeScript build, conformance kit). Sources and sinks scaffolded the same way pass the suite.
 */
import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertBuilt, runCli, type CliResult } from '../helpers/cli.js'
import { makeTempDir } from '../helpers/tmp.js'
import { startNatsServer, type TestNatsServer } from '../helpers/nats-server.js'

const exec = promisify(execFile)
let tmp: { dir: string; remove(): Promise<void> }
let nats: TestNatsServer
let home: string

beforeAll(async () => {
  assertBuilt()
  tmp = await makeTempDir('scaffold')
  home = path.join(tmp.dir, 'home')
  nats = await startNatsServer()
})
afterAll(async () => {
  await nats?.stop()
  await tmp?.remove()
})

const cli = (...args: string[]): Promise<CliResult> => runCli([...args, '--home', home], { ...process.env, TRIBUTARY_LOG_LEVEL: 'warn' })

describe('plugins new → install → use → uninstall', () => {
  const name = 'acme-passthrough'
  let dir: string

  it('scaffolds a transform package that installs as written and is listed', async () => {
    dir = path.join(tmp.dir, 'work', name)
    const made = await cli('plugins', 'new', name, '--kind', 'transform', '--dir', dir)
    expect(made.code, made.stderr).toBe(0)
    expect(made.stdout).toContain(`wrote transform plugin ${name} in ${dir}:`)
    const inst = await cli('plugins', 'install', dir, '--yes')
    expect(inst.code, inst.stderr).toBe(0)
    const list = await cli('plugins', 'list', '--json')
    expect(list.stdout).toContain(`"${name}"`)
    expect((JSON.parse(list.stdout) as { name: string; origin: string; kind: string }[]).find((p) => p.name === name)).toMatchObject({ origin: 'community', kind: 'transform' })
  })

  it('a pipeline stage `{ use: NAME }` with no config passes records through (file → NAME → stdout on NATS)', async () => {
    const records = [{ id: 1, value: 150 }, { id: 2, value: 50, nested: { a: [1, 2] } }, { id: 3, name: 'x' }]
    await writeFile(path.join(tmp.dir, 'in.ndjson'), records.map((r) => JSON.stringify(r)).join('\n') + '\n')
    const pipeline = path.join(tmp.dir, 'pass.yaml')
    await writeFile(pipeline, `name: pass\nsource: { use: file, config: { path: in.ndjson } }\ntransforms:\n  - { use: ${name} }\nsinks:\n  - { use: stdout }\n`)
    const r = await cli('run', pipeline, '--nats', nats.url)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual(records)
    expect(r.stderr).toContain('pass: 3 records in, 0 to the dead-letter queue, input drained')
  })

  it('uninstalls it; the pipeline then names the missing plugin', async () => {
    const r = await cli('plugins', 'uninstall', name)
    expect(r.code, r.stderr).toBe(0)
    expect((await cli('plugins', 'list', '--json')).stdout).not.toContain(`"${name}"`)
    const v = await cli('validate', path.join(tmp.dir, 'pass.yaml'))
    expect(v.stderr).toContain(`no transform plugin named "${name}"`)
  })

  it("the package's own npm install && npm test: TypeScript build, conformance kit, pass-through and reject tests", async () => {
    await exec('npm', ['install', '--no-audit', '--no-fund'], { cwd: dir })
    const { stdout } = await exec('npm', ['test'], { cwd: dir })
    expect(stdout).toMatch(/# pass 3\n# fail 0/)
    const t = await cli('plugins', 'test', dir, '--json')
    expect(t.code, t.stderr).toBe(0)
    expect(JSON.parse(t.stdout)).toMatchObject({ ok: true, counts: { fail: 0 }, plugin: { name, kind: 'transform' } })
  })
})

describe('scaffolded sources and sinks', () => {
  it.each(['source', 'sink'] as const)('a new %s passes the conformance suite and installs', async (kind) => {
    const dir = path.join(tmp.dir, 'work', `acme-${kind}`)
    expect((await cli('plugins', 'new', `@acme/${kind}-demo`, '--kind', kind, '--dir', dir)).code).toBe(0)
    const t = await cli('plugins', 'test', dir)
    expect(t.code, t.stdout + t.stderr).toBe(0)
    expect(t.stdout).toMatch(/PASS: \d+ passed, 0 failed/)
    const inst = await cli('plugins', 'install', dir, '--yes', '--json')
    expect(inst.code, inst.stderr).toBe(0)
    expect(JSON.parse(inst.stdout)).toMatchObject({ package: `@acme/${kind}-demo`, name: `@acme/${kind}-demo`, kind })
  })

  it('refuses a name that cannot be a plugin name, and a folder that is not empty', async () => {
    const bad = await cli('plugins', 'new', 'Geo_Enrich', '--kind', 'transform', '--dir', path.join(tmp.dir, 'bad'))
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('"Geo_Enrich" cannot be a plugin name')
    const taken = await cli('plugins', 'new', 'again', '--kind', 'transform', '--dir', path.join(tmp.dir, 'work'))
    expect(taken.stderr).toContain('already exists and is not empty')
  })
})
