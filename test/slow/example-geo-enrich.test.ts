/**
 * examples/geo-enrich as a newcomer uses it (docs/writing-plugins.md): npm install, npm test
 * (build + its tests), npm pack, `plugins install <tarball>`, then the example pipeline: its
 * tests with `tributary test`, and a real run on nats-server that prints the enriched records.
 */
import { execFile } from 'node:child_process'
import { cp, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertBuilt, repoRoot, runCli, type CliResult } from '../helpers/cli.js'
import { makeTempDir } from '../helpers/tmp.js'
import { startNatsServer, type TestNatsServer } from '../helpers/nats-server.js'

const exec = promisify(execFile)
let tmp: { dir: string; remove(): Promise<void> }
let nats: TestNatsServer
let home: string
let pkg: string

beforeAll(async () => {
  assertBuilt()
  tmp = await makeTempDir('geo-example')
  home = path.join(tmp.dir, 'home')
  pkg = path.join(tmp.dir, 'geo-enrich')
  // A copy outside the repository: its dev dependency `file:../..` then points at this repository.
  await cp(path.join(repoRoot, 'examples', 'geo-enrich'), pkg, { recursive: true, filter: (src) => !/node_modules|dist|\.tgz$/.test(path.relative(repoRoot, src)) })
  const json = JSON.parse(await readFile(path.join(pkg, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }
  json.devDependencies.tributary = `file:${repoRoot}`
  await writeFile(path.join(pkg, 'package.json'), JSON.stringify(json, null, 2))
  nats = await startNatsServer()
})
afterAll(async () => {
  await nats?.stop()
  await tmp?.remove()
})

const cli = (...args: string[]): Promise<CliResult> => runCli([...args, '--home', home], { ...process.env, TRIBUTARY_LOG_LEVEL: 'warn' })

describe('examples/geo-enrich', () => {
  let tarball: string

  it('builds and passes its own tests (conformance kit included), then packs', async () => {
    await exec('npm', ['install', '--no-audit', '--no-fund'], { cwd: pkg })
    const { stdout } = await exec('npm', ['test'], { cwd: pkg })
    expect(stdout).toMatch(/# pass 3\n# fail 0/)
    const packed = await exec('npm', ['pack', '--json'], { cwd: pkg })
    tarball = path.join(pkg, (JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as { filename: string }[])[0]!.filename)
    expect(path.basename(tarball)).toBe('tributary-geo-enrich-1.0.0.tgz')
    await rm(path.join(pkg, 'node_modules'), { recursive: true }) // the installed copy must not need it
  })

  it('installs from the tarball', async () => {
    const r = await cli('plugins', 'install', tarball, '--yes')
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('installed tributary-geo-enrich 1.0.0: transform plugin "geo-enrich"')
    const list = JSON.parse((await cli('plugins', 'list', '--json')).stdout) as { name: string; origin: string; version: string }[]
    expect(list.find((p) => p.name === 'geo-enrich')).toMatchObject({ origin: 'community', version: '1.0.0' })
    const inspect = await cli('plugins', 'inspect', 'geo-enrich')
    expect(inspect.stdout).toContain('| `onMissing` | "keep" \\| "drop" \\| "reject" |  | `"keep"` |')
  })

  it('the example pipeline passes its tests (`tributary test`) against the installed plugin', async () => {
    const r = await cli('test', path.join(pkg, 'pipeline', 'pipeline.yaml'))
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toContain('✓ placed visitors get a country and city; others are filtered out')
  })

  it('runs on nats-server: enriched records on stdout, the bad address in the DLQ', async () => {
    const r = await cli('run', path.join(pkg, 'pipeline', 'pipeline.yaml'), '--nats', nats.url)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual([
      { id: 1, ip: '81.2.69.142', path: '/checkout', geo: { country: 'GB', city: 'London' } },
      { id: 2, ip: '216.160.83.58', path: '/', geo: { country: 'US', city: 'Milton' } },
      { id: 5, ip: '89.160.20.120', path: '/checkout', geo: { country: 'SE', city: 'Linköping' } },
    ])
    expect(r.stderr).toContain('geo-demo: 5 records in, 1 to the dead-letter queue, input drained')
  })
})
