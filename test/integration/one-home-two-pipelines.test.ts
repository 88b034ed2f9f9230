import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { appendFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { makeTempDir } from '../helpers/tmp.js'
import { assertBuilt, runCli, spawnCli, waitFor, type Background } from '../helpers/cli.js'
import { natsServersOn } from '../../core/nats/process.js'
import { homePaths } from '../../core/home/paths.js'

// Two pipelines at once on one home: one private nats-server shared, one chDB owner serving the
// other pipeline and `query`; whichever process exits first, the others carry on.
let tmp: Awaited<ReturnType<typeof makeTempDir>>
let env: NodeJS.ProcessEnv
let home: string
const children: Background[] = []

beforeAll(async () => {
  assertBuilt()
  tmp = await makeTempDir('two')
  home = path.join(tmp.dir, 'home')
  env = { ...process.env, TRIBUTARY_HOME: home }
  delete env.NATS_URL
  delete env.CLICKHOUSE_URL
})

afterAll(async () => {
  for (const c of children) c.child.kill('SIGKILL')
  for (const pid of natsServersOn(homePaths(home).natsStore)) process.kill(pid, 'SIGKILL')
  await tmp?.remove()
})

const count = async (table: string): Promise<number> => {
  const r = await runCli(['query', `SELECT count() AS n FROM ${table}`, '--json'], env)
  return r.code === 0 ? (JSON.parse(r.stdout) as { n: number }[])[0]!.n : -1
}

describe('one home, several processes', () => {
  it('runs two pipelines at once and answers queries throughout, as owners come and go', async () => {
    for (const name of ['alpha', 'beta']) {
      await writeFile(path.join(tmp.dir, `${name}.ndjson`), Array.from({ length: 1000 }, (_, i) => JSON.stringify({ id: i + 1 })).join('\n') + '\n')
      await writeFile(path.join(tmp.dir, `${name}.yaml`), `name: ${name}
source: { use: file, config: { path: ${name}.ndjson, follow: true, pollInterval: 100ms } }
sinks: [ { use: clickhouse, config: { table: ${name}, columns: { id: UInt64 }, batch: { maxWait: 100ms } } } ]
`)
    }
    const a = spawnCli(['run', path.join(tmp.dir, 'alpha.yaml')], env)
    const b = spawnCli(['run', path.join(tmp.dir, 'beta.yaml')], env)
    children.push(a, b)
    await waitFor('both tables filled', async () => (await count('alpha')) === 1000 && (await count('beta')) === 1000)
    expect(natsServersOn(homePaths(home).natsStore)).toHaveLength(1)

    // Stop one pipeline (maybe the chDB owner); the other keeps inserting and queries keep working.
    a.child.kill('SIGTERM')
    expect(await a.exited).toBe(0)
    await appendFile(path.join(tmp.dir, 'beta.ndjson'), Array.from({ length: 500 }, (_, i) => JSON.stringify({ id: 1001 + i })).join('\n') + '\n')
    await waitFor('beta grows after alpha stopped', async () => (await count('beta')) === 1500)
    expect(await count('alpha')).toBe(1000)
    expect(natsServersOn(homePaths(home).natsStore)).toHaveLength(1)

    b.child.kill('SIGTERM')
    expect(await b.exited).toBe(0)
    expect(natsServersOn(homePaths(home).natsStore)).toEqual([])
    expect(await count('beta')).toBe(1500)
  })
})
