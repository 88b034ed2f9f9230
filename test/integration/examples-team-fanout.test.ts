/**
 * examples/team-fanout as its README runs it: a nats-server named in NATS_URL, the risk team's
 * subscriber, the pipeline (compiled CLI, embedded ClickHouse in a fresh home), the query and the
 * file. Every output is checked against the README's code blocks. The only changes: the
 * nats-server is the test helper's (a free port, a temp store), and the pipeline runs from a copy
 * of the folder so its `out/` file is written there, not into the repository.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { assertBuilt, repoRoot, runCli, waitFor } from '../helpers/cli.js'
import { copyExample, fencedBlocks, lastLine, readExampleReadme, spawnScript, stopByPid, type Script } from '../helpers/example.js'
import { startNatsServer, type TestNatsServer } from '../helpers/nats-server.js'
import { makeTempDir } from '../helpers/tmp.js'

const QUERY = 'SELECT country, count() AS orders, sum(value) AS total FROM fanout_orders GROUP BY country ORDER BY country'

let tmp: Awaited<ReturnType<typeof makeTempDir>>
let nats: TestNatsServer
let env: NodeJS.ProcessEnv
let dir: string
let readme: string
let blocks: string[]
let risk: Script | undefined

beforeAll(async () => {
  assertBuilt()
  ;[tmp, nats] = await Promise.all([makeTempDir('example-team-fanout'), startNatsServer()])
  env = { ...process.env, TRIBUTARY_HOME: path.join(tmp.dir, 'home'), NATS_URL: nats.url }
  delete env.CLICKHOUSE_URL
  readme = await readExampleReadme('team-fanout')
  blocks = fencedBlocks(readme)
  dir = await copyExample('team-fanout', tmp.dir)
})

afterAll(async () => {
  stopByPid(risk?.child)
  await risk?.exited
  await nats?.stop()
  await tmp?.remove()
})

describe('examples/team-fanout', () => {
  it('the README shows the commands this test runs', () => {
    expect(readme).toContain('export NATS_URL=nats://127.0.0.1:4222')
    expect(readme).toContain('node examples/team-fanout/team-risk.mjs &')
    expect(readme).toContain('node bin/run.js run examples/team-fanout/pipeline.yaml')
    expect(readme).toContain(`node bin/run.js query '${QUERY}'`)
    expect(readme).toContain('cat examples/team-fanout/out/large.ndjson')
  })

  it('each sink gets exactly its subset: the README’s output, exactly', async () => {
    risk = spawnScript(path.join(repoRoot, 'examples', 'team-fanout', 'team-risk.mjs'), [], env)
    await waitFor('the risk team to listen', () => risk!.lines().length > 0, 10_000)
    expect(risk.lines()).toEqual(['team-risk: listening on teams.risk.>'])

    const r = await runCli(['run', path.join(dir, 'pipeline.yaml')], env)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toBe('')
    expect(lastLine(r.stderr)).toBe('team-fanout: 24 records in, 0 to the dead-letter queue, input drained')
    expect(blocks).toContain(lastLine(r.stderr))

    // The sink flushed before the run acked and exited: the messages are on their way or here.
    await waitFor('5 refunds', () => risk!.lines().length >= 6, 10_000)
    expect(risk.lines()).toHaveLength(6)
    expect(risk.lines().slice(1).map((l) => l.split(' ')[1])).toEqual([
      'teams.risk.refunds.ES',
      'teams.risk.refunds.FR',
      'teams.risk.refunds.DE',
      'teams.risk.refunds.DE',
      'teams.risk.refunds.ES',
    ])
    expect(blocks).toContain(risk.lines().join('\n'))

    const q = await runCli(['query', QUERY], env)
    expect(q.code, q.stderr).toBe(0)
    expect(q.stdout.trimEnd().split('\n')).toEqual([
      'country  orders  total',
      '-------  ------  -----',
      'DE            5   1208',
      'ES            5   3190',
      'FR            4   1882',
      '(3 rows)',
    ])
    expect(blocks).toContain(q.stdout.trimEnd())

    const large = (await readFile(path.join(dir, 'out', 'large.ndjson'), 'utf8')).trimEnd()
    expect(large.split('\n').map((l) => (JSON.parse(l) as { id: number }).id)).toEqual([4, 5, 6, 7, 11, 13, 18, 19, 20])
    expect(blocks).toContain(large)
  })

  it('running it again adds nothing anywhere: the file source resumes from its position', async () => {
    expect(readme).toContain('Running `run` again adds nothing')
    const r = await runCli(['run', path.join(dir, 'pipeline.yaml')], env)
    expect(r.code, r.stderr).toBe(0)
    expect(lastLine(r.stderr)).toBe('team-fanout: 0 records in, 0 to the dead-letter queue, input drained')
    expect((await readFile(path.join(dir, 'out', 'large.ndjson'), 'utf8')).trimEnd().split('\n')).toHaveLength(9)
  })
})
