import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { once } from 'node:events'
import { createRequire } from 'node:module'
import { makeTempDir } from '../helpers/tmp.js'
import { transpileForChild } from '../helpers/transpile-for-child.js'
import { openClickHouse } from '../../core/clickhouse/open.js'
import { features } from '../../core/clickhouse/features.js'
import { ensureTable } from '../../core/clickhouse/table.js'
import { homePaths } from '../../core/home/paths.js'
import { TributaryError } from '../../core/errors.js'
import { ChdbLockedError } from '../../core/clickhouse/embedded.js'
import type { ClickHouse } from '../../core/plugin-api.js'

// One home for the whole file: chDB binds one data directory per process (FACTS), and vitest
// runs each file in its own process.
//
// Other processes of the home are real Node processes running the current core/clickhouse code,
// transpiled into a temp dir (Node 20 cannot import .ts; dist/ may be stale while the tree is edited).

// A second Tributary process: opens the home's ClickHouse, reports its mode, then counts rows
// (`count`) or holds the handle until told to exit (`hold`).
const CHILD = `
const [openUrl, home, mode, table] = process.argv.slice(2)
const { openClickHouse } = await import(openUrl)
const ch = await openClickHouse({ home })
const say = (o) => process.stdout.write(JSON.stringify({ pid: process.pid, mode: ch.mode, ...o }) + '\\n')
if (mode === 'count') {
  const rows = await ch.query('SELECT count() AS n FROM ' + table)
  say({ n: rows[0].n })
  await ch.close()
} else {
  say({ ready: true })
  process.stdin.on('data', async () => { await ch.close(); process.exit(0) })
}
`

// A process that opens chDB directly and serves nobody: what a foreign program would do.
const RAW_CHDB = `
import { pathToFileURL } from 'node:url'
const { createChdbConnection } = await import(pathToFileURL(process.argv[3]).href)
const conn = createChdbConnection({ path: process.argv[2] })
process.stdout.write('{"ready":true}\\n')
process.stdin.on('data', () => { conn.close(); process.exit(0) })
`

let tmp: Awaited<ReturnType<typeof makeTempDir>>
let home: string
const children = new Set<ChildProcess>()
const handles: ClickHouse[] = []

interface ChildLine {
  pid: number
  mode?: string
  n?: number
  ready?: boolean
}

function startChild(script: string, args: string[]): { child: ChildProcess; line: () => Promise<ChildLine> } {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
  children.add(child)
  child.once('exit', () => children.delete(child))
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]()
  return {
    child,
    async line() {
      const next = await lines.next()
      if (next.done) throw new Error(`child exited without answering (code ${child.exitCode}):\n${stderr.slice(-2000)}`)
      return JSON.parse(next.value) as ChildLine
    },
  }
}

async function open(): Promise<ClickHouse> {
  const ch = await openClickHouse({ home })
  handles.push(ch)
  return ch
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  await once(child, 'exit')
}

let childScript: string
let rawScript: string
let openUrl: string

beforeAll(async () => {
  tmp = await makeTempDir('ch-embedded')
  // The dir must exist before transpileForChild links node_modules into it.
  await mkdir(path.join(tmp.dir, 'js'))
  openUrl = await transpileForChild('core/clickhouse/open.ts', path.join(tmp.dir, 'js'))
  home = path.join(tmp.dir, 'home')
  childScript = path.join(tmp.dir, 'child.mjs')
  rawScript = path.join(tmp.dir, 'raw-chdb.mjs')
  await writeFile(childScript, CHILD)
  await writeFile(rawScript, RAW_CHDB)
})

afterAll(async () => {
  for (const ch of handles) await ch.close().catch(() => undefined)
  for (const child of children) {
    if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL')
    await exited(child)
  }
  await tmp?.remove()
})

async function count(ch: ClickHouse, table: string): Promise<number> {
  return (await ch.query<{ n: number }>(`SELECT count() AS n FROM ${table}`))[0]!.n
}

describe('embedded ClickHouse (real chDB)', () => {
  it('creates a table from columns, inserts, queries with parameters, and normalizes 64-bit integers', async () => {
    const ch = await open()
    expect(ch.mode).toBe('embedded')
    const cols = await ensureTable(ch, {
      table: 'events',
      columns: { id: 'UInt64', name: 'TEXT', value: 'Nullable(Float64)' },
      orderBy: ['id'],
      dedupWindow: 100,
    })
    expect(cols).toEqual({ id: 'UInt64', name: 'String', value: 'Nullable(Float64)' })
    await ch.insert('events', [
      { id: 1, name: 'a', value: 1.5 },
      { id: 2, name: 'b', value: null },
      { id: 9007199254740991, name: 'max', value: 2 },
    ])
    const rows = await ch.query<{ id: number; name: string }>('SELECT id, name FROM events WHERE name = {name:String} ORDER BY id', { name: 'max' })
    expect(rows).toEqual([{ id: 9007199254740991, name: 'max' }])
    expect(typeof rows[0]!.id).toBe('number')
    const big = await ch.query<{ v: number | string }>('SELECT toUInt64(18446744073709551615) AS v')
    expect(big[0]!.v).toBe('18446744073709551615')
    // Same columns in another spelling: no mismatch.
    await expect(ch.ensureTable({ table: 'events', columns: { id: 'UInt64', name: 'String', value: 'Nullable(DOUBLE)' } })).resolves.toEqual(cols)
  })

  it('reports every differing column of an existing table, and a missing table without columns', async () => {
    const ch = await open()
    const err = await ensureTable(ch, { table: 'events', columns: { id: 'String', value: 'Float64', extra: 'String', name: 'String' } }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TributaryError)
    const e = err as TributaryError
    expect(e.code).toBe('E_SCHEMA_MISMATCH')
    expect(e.message).toContain('3 differences')
    expect(e.message).toContain('column "id": the table has UInt64, the sink writes String')
    expect(e.message).toContain('column "value": the table has Nullable(Float64), the sink writes Float64 (the table allows null, the sink does not)')
    expect(e.message).toContain('column "extra" is missing from the table')
    expect(e.hint).toContain('ALTER TABLE `events` ADD COLUMN `extra` String')

    const missing = (await ensureTable(ch, { table: 'nope' }).catch((x: unknown) => x)) as TributaryError
    expect(missing.code).toBe('E_SCHEMA_MISMATCH')
    expect(missing.message).toBe('table "nope" does not exist')
    expect(missing.hint).toBe('add `columns` to the clickhouse sink to create it, or create the table')
  })

  it('deduplicates a repeated insert by token within the table window, and no token sticks to later inserts', async () => {
    const ch = await open()
    const f = features(ch)
    expect(await f.supportsDedupToken()).toBe(true)
    expect(await f.supportsDedupWindow()).toBe(true)
    expect(await f.tableDedupWindow('events')).toBe(100)
    expect(await f.supportsExchangeTables()).toBe(true)
    expect(await f.version()).toMatch(/^\d+\.\d+\./)
    expect(await f.versionAtLeast(21)).toBe(true)

    await ensureTable(ch, { table: 'dedup', columns: { k: 'UInt32' }, dedupWindow: 10 })
    const batch = [{ k: 1 }, { k: 2 }]
    await ch.insert('dedup', batch, { settings: { insert_deduplication_token: 't1' } })
    await ch.insert('dedup', batch, { settings: { insert_deduplication_token: 't1' } })
    expect(await count(ch, 'dedup')).toBe(2)
    // chDB's clickhouse_settings would have kept t1 for this one and dropped it (FACTS).
    await ch.insert('dedup', [{ k: 3 }])
    await ch.insert('dedup', [{ k: 4 }])
    expect(await count(ch, 'dedup')).toBe(4)
    // A table without a window deduplicates nothing.
    await ensureTable(ch, { table: 'nodedup', columns: { k: 'UInt32' } })
    expect(await f.tableDedupWindow('nodedup')).toBe(0)
  })

  it('refuses session SETs and shares one handle per home inside a process', async () => {
    const a = await open()
    const b = await open()
    await expect(a.command("SET insert_deduplication_token = 'x'")).rejects.toMatchObject({ code: 'E_USAGE' })
    await a.close()
    expect(await count(b, 'events')).toBe(3)
    await expect(a.query('SELECT 1')).rejects.toMatchObject({ code: 'E_CLICKHOUSE' })
  })

  it('lets another process of the home read the data through the owner socket', async () => {
    const c = startChild(childScript, [openUrl, home, 'count', 'events'])
    const line = await c.line()
    expect(line).toMatchObject({ mode: 'proxy', n: 3 })
    await exited(c.child)
  })

  it('hands ownership over: a proxy survives its owner exiting cleanly and becomes the owner', async () => {
    for (const ch of handles.splice(0)) await ch.close()
    expect(existsSync(homePaths(home).clickhouseSocket)).toBe(false)

    const owner = startChild(childScript, [openUrl, home, 'hold'])
    expect(await owner.line()).toMatchObject({ mode: 'embedded', ready: true })
    const ch = await open()
    expect(ch.mode).toBe('proxy')
    // Inserts through the proxy keep their per-statement token.
    await ch.insert('dedup', [{ k: 5 }], { settings: { insert_deduplication_token: 'p1' } })
    await ch.insert('dedup', [{ k: 5 }], { settings: { insert_deduplication_token: 'p1' } })
    expect(await count(ch, 'dedup')).toBe(5)
    await expect(ch.query('SELECT * FROM nope')).rejects.toMatchObject({ code: 'E_CLICKHOUSE', clickhouseCode: 60 })

    owner.child.stdin!.write('exit\n')
    await exited(owner.child)
    expect(owner.child.exitCode).toBe(0)
    expect(await count(ch, 'dedup')).toBe(5)
    expect(ch.mode).toBe('embedded')
  })

  it('recovers when the owner is killed with SIGKILL (stale socket left behind)', async () => {
    for (const ch of handles.splice(0)) await ch.close()
    const owner = startChild(childScript, [openUrl, home, 'hold'])
    expect(await owner.line()).toMatchObject({ mode: 'embedded' })
    const ch = await open()
    expect(ch.mode).toBe('proxy')
    await ch.ensureTable({ table: 'after_kill', columns: { k: 'UInt32' } })
    owner.child.kill('SIGKILL')
    await exited(owner.child)
    expect(existsSync(homePaths(home).clickhouseSocket)).toBe(true)
    // The insert never reached the dead owner (refused connect), so it is retried, not failed.
    await ch.insert('after_kill', [{ k: 1 }])
    expect(ch.mode).toBe('embedded')
    expect(await count(ch, 'after_kill')).toBe(1)
    expect(await count(ch, 'events')).toBe(3)
  })

  it('lets several processes start at once: one owns, the others proxy, all read the same data', async () => {
    for (const ch of handles.splice(0)) await ch.close()
    const starters = [0, 1, 2].map(() => startChild(childScript, [openUrl, home, 'count', 'dedup']))
    const lines = await Promise.all(starters.map((s) => s.line()))
    for (const l of lines) expect(l.n).toBe(5)
    await Promise.all(starters.map((s) => exited(s.child)))
  })

  it('names the process that holds chDB without serving it', async () => {
    const raw = startChild(rawScript, [homePaths(home).clickhouseData, createRequire(import.meta.url).resolve('chdb/connection')])
    expect(await raw.line()).toMatchObject({ ready: true })
    const err = await openClickHouse({ home, lockWaitMs: 500 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ChdbLockedError)
    expect((err as ChdbLockedError).pid).toBe(raw.child.pid)
    expect((err as ChdbLockedError).message).toContain(`in use by process ${raw.child.pid}`)
    raw.child.stdin!.write('exit\n')
    await exited(raw.child)
    const ch = await open()
    expect(await count(ch, 'events')).toBe(3)
  })
})
