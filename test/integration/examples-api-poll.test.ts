/**
 * examples/api-poll as its README runs it: the local API, then the two pipelines (compiled CLI, a
 * private nats-server per run, embedded ClickHouse in a fresh home), the query, and a second run
 * that adds nothing. Every output is checked against the README's code blocks. The only change
 * to the example is the API's port (a free one instead of 8787).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import path from 'node:path'
import { assertBuilt, repoRoot, runCli, waitFor, type CliResult } from '../helpers/cli.js'
import { copyExample, fencedBlocks, lastLine, readExampleReadme, spawnScript, stopByPid, type Script } from '../helpers/example.js'
import { freePort } from '../helpers/free-port.js'
import { makeTempDir } from '../helpers/tmp.js'
import { natsServersOn } from '../../core/nats/process.js'

const QUERY = 'SELECT channel, count() AS sales, round(sum(value), 2) AS total, min(value) AS smallest FROM api_poll_sales GROUP BY channel ORDER BY channel'
const QUERY_AGAIN = 'SELECT channel, count() AS sales FROM api_poll_sales GROUP BY channel ORDER BY channel'

let tmp: Awaited<ReturnType<typeof makeTempDir>>
let env: NodeJS.ProcessEnv
let home: string
let dir: string
let port: number
let readme: string
let blocks: string[]
let api: Script | undefined

beforeAll(async () => {
  assertBuilt()
  tmp = await makeTempDir('example-api-poll')
  home = path.join(tmp.dir, 'home')
  env = { ...process.env, TRIBUTARY_HOME: home }
  delete env.NATS_URL
  delete env.CLICKHOUSE_URL
  readme = await readExampleReadme('api-poll')
  blocks = fencedBlocks(readme)
  port = await freePort()
  const url = { from: '127.0.0.1:8787', to: `127.0.0.1:${port}` }
  dir = await copyExample('api-poll', tmp.dir, [
    { file: 'pipeline.yaml', ...url },
    { file: 'pipeline-pos.yaml', ...url },
  ])
})

afterAll(async () => {
  stopByPid(api?.child)
  if (api) await api.exited
  // A run killed by a timeout leaves its private nats-server behind: stop it by PID.
  if (home) for (const pid of natsServersOn(path.join(home, 'nats', 'store'))) process.kill(pid, 'SIGKILL')
  await tmp?.remove()
})

const cli = (...args: string[]): Promise<CliResult> => runCli(args, env)

/** The API's lines as the README shows them (port 8787). */
const apiLines = (): string[] => api!.lines().map((l) => l.replace(`127.0.0.1:${port}`, '127.0.0.1:8787'))

describe('examples/api-poll', () => {
  it('the README shows the commands this test runs', () => {
    expect(readme).toContain('node examples/api-poll/api.mjs &')
    expect(readme).toContain('node bin/run.js run examples/api-poll/pipeline.yaml')
    expect(readme).toContain('node bin/run.js run examples/api-poll/pipeline-pos.yaml')
    expect(readme).toContain(`node bin/run.js query '${QUERY}'`)
    expect(readme).toContain(`node bin/run.js query '${QUERY_AGAIN}'`)
  })

  it('polls both APIs into one table: the README’s output, exactly', async () => {
    api = spawnScript(path.join(repoRoot, 'examples', 'api-poll', 'api.mjs'), ['--port', String(port)], env)
    await waitFor('the API to listen', () => api!.lines().length > 0, 10_000)

    const web = await cli('run', path.join(dir, 'pipeline.yaml'))
    expect(web.code, web.stderr).toBe(0)
    expect(web.stdout).toBe('')
    expect(lastLine(web.stderr)).toBe('web-orders: 45 records in, 0 to the dead-letter queue, input drained')
    expect(blocks).toContain(lastLine(web.stderr))

    const pos = await cli('run', path.join(dir, 'pipeline-pos.yaml'))
    expect(pos.code, pos.stderr).toBe(0)
    expect(lastLine(pos.stderr)).toBe('pos-sales: 20 records in, 0 to the dead-letter queue, input drained')
    expect(blocks).toContain(lastLine(pos.stderr))

    // 6 pages of orders (the last one empty), then the sales in one call.
    await waitFor('the API’s 8 lines', () => api!.lines().length >= 8, 10_000)
    expect(apiLines()).toHaveLength(8)
    expect(apiLines()[6]).toBe('api: GET /v1/orders?limit=10&after=45 -> 0 orders')
    expect(blocks).toContain(apiLines().join('\n'))

    const q = await cli('query', QUERY)
    expect(q.code, q.stderr).toBe(0)
    expect(q.stdout.trimEnd().split('\n')).toEqual([
      'channel  sales  total   smallest',
      '-------  -----  ------  --------',
      'pos         10  1452.5    100.25',
      'web         28    4788     100.5',
      '(2 rows)',
    ])
    expect(blocks).toContain(q.stdout.trimEnd())
  })

  it('a second run inserts nothing: the cursor resumes at 45, known sales are not stored twice', async () => {
    const web = await cli('run', path.join(dir, 'pipeline.yaml'))
    expect(web.code, web.stderr).toBe(0)
    expect(lastLine(web.stderr)).toBe('web-orders: 0 records in, 0 to the dead-letter queue, input drained')
    expect(readme).toContain(`\`${lastLine(web.stderr)}\``)
    await waitFor('the API’s 9th line', () => api!.lines().length >= 9, 10_000)
    expect(apiLines()[8]).toBe('api: GET /v1/orders?limit=10&after=45 -> 0 orders')
    expect(readme).toContain(`\`${apiLines()[8]}\``)

    const pos = await cli('run', path.join(dir, 'pipeline-pos.yaml'))
    expect(pos.code, pos.stderr).toBe(0)
    await waitFor('the API’s 10th line', () => api!.lines().length >= 10, 10_000)
    expect(apiLines()[9]).toBe('api: GET /v1/pos/sales -> 20 sales')

    const q = await cli('query', QUERY_AGAIN)
    expect(q.code, q.stderr).toBe(0)
    expect(q.stdout.trimEnd()).toBe(['channel  sales', '-------  -----', 'pos         10', 'web         28', '(2 rows)'].join('\n'))
    expect(blocks).toContain(q.stdout.trimEnd())
  })
})
