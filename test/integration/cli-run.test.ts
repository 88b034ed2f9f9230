import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { appendFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { makeTempDir } from '../helpers/tmp.js'
import { assertBuilt, runCli, spawnCli, waitFor, type Background } from '../helpers/cli.js'
import { natsServersOn as natsServersFor } from '../../core/nats/process.js'

// The CLI as a user runs it: no NATS_URL, so each command finds or starts the home's private
// nats-server; ClickHouse embedded in the home.
let tmp: Awaited<ReturnType<typeof makeTempDir>>
let env: NodeJS.ProcessEnv
let home: string
const running: Background[] = []

beforeAll(async () => {
  assertBuilt()
  tmp = await makeTempDir('cli')
  home = path.join(tmp.dir, 'home')
  env = { ...process.env, TRIBUTARY_HOME: home, NATS_URL: '', CLICKHOUSE_URL: '' }
  delete env.NATS_URL
  delete env.CLICKHOUSE_URL
})

afterAll(async () => {
  for (const b of running) b.child.kill('SIGKILL')
  for (const pid of natsServersFor(store())) process.kill(pid, 'SIGKILL')
  await tmp?.remove()
})

const store = (): string => path.join(home, 'nats', 'store')

async function count(table: string): Promise<number> {
  const r = await runCli(['query', `SELECT count() AS n FROM ${table}`, '--json'], env)
  expect(r.code, r.stderr).toBe(0)
  return (JSON.parse(r.stdout) as { n: number }[])[0]!.n
}

describe('tributary CLI end to end', () => {
  it('a finite run exits 0, prints its summary on stderr, and leaves no process behind', async () => {
    const lines = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ id: i + 1, value: i % 200 }))
    await writeFile(path.join(tmp.dir, 'finite.ndjson'), lines.join('\n') + '\nnot json\n')
    await writeFile(path.join(tmp.dir, 'finite.yaml'), `name: finite
source: { use: file, config: { path: finite.ndjson } }
transforms: [ { use: filter, config: { where: "value > 100" } } ]
sinks: [ { use: clickhouse, config: { table: finite, columns: { id: UInt64, value: Float64 } } } ]
`)
    const r = await runCli(['run', path.join(tmp.dir, 'finite.yaml')], env)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain('finite: 2000 records in, 1 to the dead-letter queue, input drained')
    expect(natsServersFor(store())).toEqual([])
    expect(await count('finite')).toBe(lines.filter((l) => (JSON.parse(l) as { value: number }).value > 100).length)
    expect(natsServersFor(store())).toEqual([])
  })

  it('query works while a pipeline runs (the chDB owner serves it), and SIGTERM drains with exit 0', async () => {
    const input = path.join(tmp.dir, 'follow.ndjson')
    await writeFile(input, Array.from({ length: 500 }, (_, i) => JSON.stringify({ id: i + 1 })).join('\n') + '\n')
    await writeFile(path.join(tmp.dir, 'follow.yaml'), `name: follow
source: { use: file, config: { path: follow.ndjson, follow: true, pollInterval: 100ms } }
sinks: [ { use: clickhouse, config: { table: follow, columns: { id: UInt64 }, batch: { maxWait: 100ms } } } ]
`)
    const bg = spawnCli(['run', path.join(tmp.dir, 'follow.yaml')], env)
    running.push(bg)
    await waitFor('500 rows while running', async () => (await count('follow').catch(() => 0)) === 500)
    await appendFile(input, Array.from({ length: 250 }, (_, i) => JSON.stringify({ id: 501 + i })).join('\n') + '\n')
    await waitFor('750 rows while running', async () => (await count('follow').catch(() => 0)) === 750)
    expect(natsServersFor(store())).toHaveLength(1)
    bg.child.kill('SIGTERM')
    expect(await bg.exited).toBe(0)
    expect(natsServersFor(store())).toEqual([])
  })

  it('a private server left by a killed run is reused (never duplicated) and stopped at the end', async () => {
    const input = path.join(tmp.dir, 'crash.ndjson')
    await writeFile(input, Array.from({ length: 300 }, (_, i) => JSON.stringify({ id: i + 1 })).join('\n') + '\n')
    await writeFile(path.join(tmp.dir, 'crash.yaml'), `name: crash
source: { use: file, config: { path: crash.ndjson, follow: true, pollInterval: 100ms } }
sinks: [ { use: clickhouse, config: { table: crash, columns: { id: UInt64 }, batch: { maxWait: 100ms } } } ]
`)
    const bg = spawnCli(['run', path.join(tmp.dir, 'crash.yaml')], env)
    running.push(bg)
    const [leftover] = await waitFor('a private nats-server', () => {
      const p = natsServersFor(store())
      return p.length === 1 ? p : undefined
    })
    await waitFor('the pipeline to insert', () => /pipeline running/.test(bg.stderr()))
    bg.child.kill('SIGKILL')
    await bg.exited
    expect(natsServersFor(store())).toEqual([leftover]) // orphaned, still serving its store

    // A finite rerun reuses that server, resumes, and stops it at exit.
    await writeFile(path.join(tmp.dir, 'crash2.yaml'), `name: crash
source: { use: file, config: { path: crash.ndjson } }
sinks: [ { use: clickhouse, config: { table: crash, columns: { id: UInt64 } } } ]
`)
    const r = await runCli(['run', path.join(tmp.dir, 'crash2.yaml')], env)
    expect(r.code, r.stderr).toBe(0)
    expect(natsServersFor(store())).toEqual([])
    expect(await count('crash')).toBe(300)
  })

  it('validate exits non-zero on a broken file and names file, line and path', async () => {
    const f = path.join(tmp.dir, 'broken.yaml')
    await writeFile(f, `name: broken
source: { use: file, config: { path: x.ndjson } }
transforms:
  - { use: filtr, config: { where: "value > 1" } }
sinks:
  - { use: clickhouse, config: { tabel: t } }
`)
    const r = await runCli(['validate', f], env)
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain('broken.yaml:4')
    expect(r.stderr).toContain('transforms[0].use')
    expect(r.stderr).toMatch(/did you mean `filter`/)
    expect(r.stderr).toContain('sinks[0].config')
    expect(r.stderr).toMatch(/did you mean `table`/)
    expect(r.stderr).not.toMatch(/\n\s+at /) // no stack trace without --verbose
  })
})
