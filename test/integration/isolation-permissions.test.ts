/**
 * A community plugin runs sandboxed (core/isolation, docs/threat-model.md). The same probe plugin
 * is installed twice in one home: `probe` declares no permissions, `probe-allowed` declares each
 * one. Each record asks the probe to do one thing — read a file outside its folder, write one,
 * read an environment variable, spawn a process, load a native addon, connect to a host by name
 * and by raw IP, connect from a worker thread (around the in-process network check) — on a real
 * nats-server. Refusals name the missing permission (in the record's DLQ reason, or the log for an
 * environment variable); with the permission declared the same action succeeds. Where namespaces
 * cannot be created (no bwrap), the compiled CLI refuses to start the stage unless the pipeline
 * accepts running it under Node's permission model only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { pino } from 'pino'
import { connect } from '@nats-io/transport-node'
import type { NatsConnection } from '@nats-io/nats-core'
import { startNatsServer } from '../helpers/nats-server.js'
import { makeTempDir } from '../helpers/tmp.js'
import { readDlq } from '../helpers/dlq.js'
import { assertBuilt, repoRoot, runCli } from '../helpers/cli.js'
import { loadPipeline } from '../../core/pipeline/load.js'
import { openRegistry } from '../../core/app/session.js'
import { createRuntime, type RunSummary } from '../../core/runtime/runtime.js'
import { TributaryError } from '../../core/errors.js'

let nats: Awaited<ReturnType<typeof startNatsServer>>
let tmp: Awaited<ReturnType<typeof makeTempDir>>
let nc: NatsConnection
let home: string
let server: net.Server
let port: number
let secretFile: string
let outDir: string
let addon: string

/** A native addon that vitest's own toolchain ships for this platform. */
async function findAddon(): Promise<string> {
  const nm = path.join(repoRoot, 'node_modules')
  const dirs = [...(await readdir(nm)).filter((d) => d.startsWith('lightningcss-')).map((d) => path.join(nm, d))]
  if (existsSync(path.join(nm, '@rolldown'))) dirs.push(...(await readdir(path.join(nm, '@rolldown'))).map((d) => path.join(nm, '@rolldown', d)))
  for (const d of dirs) {
    const f = (await readdir(d).catch(() => [])).find((x) => x.endsWith('.node'))
    if (f) return path.join(d, f)
  }
  throw new Error('no native addon (.node) found under node_modules to load in the test')
}

async function installProbe(name: string, permissions: Record<string, unknown>): Promise<void> {
  const dir = path.join(home, 'plugins', name)
  await mkdir(dir, { recursive: true })
  await copyFile(path.join(repoRoot, 'test', 'fixtures', 'isolation', 'probe.js'), path.join(dir, 'index.js'))
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', type: 'module' }))
  await writeFile(path.join(dir, 'plugin.json'), JSON.stringify({
    name, version: '1.0.0', kind: 'transform', entry: 'index.js', engine: '>=0.1.0',
    description: 'Tries one guarded action per record (test plugin).', config: { type: 'object', properties: {} }, permissions,
  }))
}

beforeAll(async () => {
  assertBuilt() // the sandboxed child runs the compiled dist/core/isolation/child/main.js
  ;[nats, tmp] = await Promise.all([startNatsServer(), makeTempDir('isolation')])
  nc = await connect({ servers: nats.url })
  home = path.join(tmp.dir, 'home')
  secretFile = path.join(tmp.dir, 'secret.txt')
  outDir = path.join(tmp.dir, 'out')
  await writeFile(secretFile, 'the secret\n')
  await mkdir(outDir)
  addon = await findAddon()
  server = net.createServer((c) => c.end('hello\n'))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as net.AddressInfo).port
  await installProbe('probe', { read: [addon] })
  await installProbe('probe-allowed', {
    read: [addon, secretFile],
    write: [outDir],
    env: ['PROBE_SECRET'],
    spawn: true,
    workers: true,
    addons: true,
    network: [`localhost:${port}`, `127.0.0.1:${port}`],
  })
  process.env.PROBE_SECRET = 's3cret'
})

afterAll(async () => {
  delete process.env.PROBE_SECRET
  server?.close()
  await nc?.close()
  await nats?.stop()
  await tmp?.remove()
})

const ACTIONS = () => [
  { id: 1, action: 'read', file: secretFile },
  { id: 2, action: 'write', dir: outDir },
  { id: 3, action: 'env' },
  { id: 4, action: 'spawn' },
  { id: 5, action: 'addon', addon },
  { id: 6, action: 'net', host: 'localhost', port },
  { id: 7, action: 'net', host: '127.0.0.1', port },
  { id: 8, action: 'worker-net', host: '127.0.0.1', port },
]

/** Runs the pipeline in this process with a logger whose lines the test reads. */
async function run(name: string, use: string): Promise<{ summary: RunSummary; out: Record<string, unknown>[]; dlq: Map<number, string>; logs: string[] }> {
  const dir = path.join(tmp.dir, name)
  await mkdir(dir)
  await writeFile(path.join(dir, 'in.ndjson'), ACTIONS().map((a) => JSON.stringify(a)).join('\n') + '\n')
  const file = path.join(dir, 'p.yaml')
  await writeFile(file, `name: ${name}
source: { use: file, config: { path: in.ndjson } }
transforms: [ { use: ${use} } ]
sinks: [ { use: file, config: { path: out.ndjson } } ]
delivery: { maxDeliver: 1 }
`)
  const logs: string[] = []
  const logger = pino({ level: 'debug', base: undefined }, { write: (s: string) => void logs.push(s) })
  const registry = await openRegistry(home)
  const spec = await loadPipeline(file, registry, { env: process.env })
  const runtime = await createRuntime(spec, { nc, registry, logger, openClickHouse: () => Promise.reject(new TributaryError('E_CLICKHOUSE', 'not in this test')) })
  const summary = await runtime.done
  const out = (await readFile(path.join(dir, 'out.ndjson'), 'utf8').catch(() => '')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)
  const dlq = new Map((await readDlq(nc, name)).map((d) => [(JSON.parse(d.data) as { id: number }).id, d.headers['Trib-Reason'] ?? '']))
  return { summary, out, dlq, logs }
}

describe('a community plugin runs isolated', () => {
  it('without permissions: every guarded action is refused, each naming the permission it needs', async () => {
    const { summary, out, dlq, logs } = await run('denied', 'probe')
    expect(summary.completed).toBe(true)
    // Only the environment read passes, without a value; the other seven are dead-lettered.
    expect(out.map((r) => [r.id, r.result])).toEqual([[3, null]])
    expect([...dlq.keys()].sort((a, b) => a - b)).toEqual([1, 2, 4, 5, 6, 7, 8])
    expect(dlq.get(1)).toContain(`permission denied: reading ${secretFile} needs "read": ["${secretFile}"] in the plugin's permissions`)
    expect(dlq.get(2)).toContain(`permission denied: writing ${path.join(outDir, 'out.txt')} needs "write"`)
    expect(dlq.get(4)).toContain('permission denied: starting a child process needs "spawn": true')
    expect(dlq.get(5)).toContain('permission denied: loading a native addon needs "addons": true')
    expect(dlq.get(6)).toContain(`permission denied: connecting to localhost:${port} needs "network": ["localhost:${port}"]`)
    expect(dlq.get(7)).toContain(`permission denied: connecting to 127.0.0.1:${port} needs "network": ["127.0.0.1:${port}"]`)
    expect(dlq.get(8)).toContain('permission denied: starting a worker thread needs "workers": true')
    for (const reason of dlq.values()) expect(reason).toMatch(/^plugin "probe" \(transform, stage probe\) failed in process\(\): permission denied: /)
    expect(logs.some((l) => l.includes('the environment variable PROBE_SECRET needs \\"env\\": [\\"PROBE_SECRET\\"] in the plugin\'s permissions'))).toBe(true)
    expect(existsSync(path.join(outDir, 'out.txt'))).toBe(false)
  })

  it('with the permissions declared: the same actions succeed; the network namespace still stops a connection made around the proxy', async () => {
    const { summary, out, dlq } = await run('allowed', 'probe-allowed')
    expect(summary.completed).toBe(true)
    expect(Object.fromEntries(out.map((r) => [r.id, r.result]))).toEqual({
      1: 'the secret',
      2: 'written',
      3: 's3cret',
      4: 'spawned',
      5: 'loaded',
      6: 'hello',
      7: 'hello',
    })
    expect(await readFile(path.join(outDir, 'out.txt'), 'utf8')).toBe('written by the plugin')
    // A worker thread's `net` is not routed through the proxy: in the namespace 127.0.0.1 is the
    // sandbox's own loopback, where nothing listens, even though the host is declared.
    expect([...dlq.keys()]).toEqual([8])
    expect(dlq.get(8)).toContain('raw connect from a worker failed: error: ECONNREFUSED')
  })

  it('where namespaces cannot be created (no bwrap on the PATH): refused at start, unless the pipeline accepts the weaker sandbox', async () => {
    const dir = path.join(tmp.dir, 'no-ns')
    await mkdir(dir)
    await writeFile(path.join(dir, 'in.ndjson'), [{ id: 1, action: 'read', file: secretFile }, { id: 3, action: 'env' }].map((a) => JSON.stringify(a)).join('\n') + '\n')
    const pipeline = (name: string, extra: string): string => `name: ${name}\nsource: { use: file, config: { path: in.ndjson } }\ntransforms: [ { use: probe } ]\nsinks: [ { use: stdout } ]\ndelivery: { maxDeliver: 1 }\n${extra}`
    await writeFile(path.join(dir, 'strict.yaml'), pipeline('nons-strict', ''))
    await writeFile(path.join(dir, 'weak.yaml'), pipeline('nons-weak', 'isolation: { namespaces: if-available }\n'))
    const env = { ...process.env, PATH: '/nonexistent', NATS_URL: nats.url, TRIBUTARY_LOG_LEVEL: 'warn' }

    const strict = await runCli(['run', path.join(dir, 'strict.yaml'), '--home', home], env)
    expect(strict.code).not.toBe(0)
    expect(strict.stderr).toContain('plugin "probe" (transform, stage probe) is a community plugin and must run isolated, but this host cannot create namespaces: bubblewrap (`bwrap`) is not installed')
    expect(strict.stderr).toContain('isolation: { namespaces: if-available }')

    const weak = await runCli(['run', path.join(dir, 'weak.yaml'), '--home', home], env)
    expect(weak.code, weak.stderr).toBe(0)
    expect(weak.stderr).toContain('runs WITHOUT network isolation (isolation.namespaces: if-available)')
    // Node's permission model still holds: the file read is refused, the variable is not there.
    expect(weak.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([{ id: 3, action: 'env', result: null }])
    expect((await readDlq(nc, 'nons-weak')).map((d) => d.headers['Trib-Reason'])).toEqual([expect.stringContaining(`permission denied: reading ${secretFile} needs "read"`)])
  })
})
