/**
 * examples/alerts as its README runs it: the receiver, the pipeline in the background (compiled
 * CLI, private nats-server, embedded ClickHouse in a fresh home), the readings POSTed as curl
 * does, SIGTERM, the query. Every output is checked against the README's code blocks. The only
 * changes: free ports instead of 8088 (in a copy of pipeline.yaml) and 9099 (ALERT_URL).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { repoRoot, runCli, waitFor, type Background } from '../helpers/cli.js'
import { copyExample, fencedBlocks, lastLine, postUntilListening, readExampleReadme, spawnScript, stopByPid, type Script } from '../helpers/example.js'
import { freePort } from '../helpers/free-port.js'
import { startPipelineEnv, type PipelineEnv } from '../helpers/pipeline-env.js'

const QUERY = 'SELECT boiler, count() AS readings, max(temp) AS hottest, countIf(temp >= 90) AS alerts FROM boiler_readings GROUP BY boiler ORDER BY boiler'

let t: PipelineEnv
let dir: string
let httpPort: number
let receiverPort: number
let readme: string
let blocks: string[]
let receiver: Script | undefined
let run: Background | undefined

beforeAll(async () => {
  readme = await readExampleReadme('alerts')
  blocks = fencedBlocks(readme)
  ;[httpPort, receiverPort] = await Promise.all([freePort(), freePort()])
  // No NATS_URL: `run` starts its private nats-server on the home's store, as for a user (close() stops it).
  t = await startPipelineEnv('example-alerts', { cli: true, nats: false, env: { ALERT_URL: `http://127.0.0.1:${receiverPort}/alerts` } })
  dir = await copyExample('alerts', t.dir, [{ file: 'pipeline.yaml', from: 'port: 8088', to: `port: ${httpPort}` }])
})

afterAll(async () => {
  stopByPid(receiver?.child)
  await receiver?.exited
  await t?.close()
})

describe('examples/alerts', () => {
  it('the README shows the commands this test runs', () => {
    expect(readme).toContain('export ALERT_URL=http://127.0.0.1:9099/alerts')
    expect(readme).toContain('node examples/alerts/receiver.mjs &')
    expect(readme).toContain('node bin/run.js run examples/alerts/pipeline.yaml &')
    expect(readme).toContain('--data-binary @examples/alerts/readings.ndjson http://127.0.0.1:8088/readings')
    expect(readme).toContain('kill %2; wait %2')
    expect(readme).toContain(`node bin/run.js query '${QUERY}'`)
  })

  it('stores every reading, alerts on the hot ones in order, drains on SIGTERM: the README’s output, exactly', async () => {
    receiver = spawnScript(path.join(repoRoot, 'examples', 'alerts', 'receiver.mjs'), ['--port', String(receiverPort)], t.env)
    await waitFor('the receiver to listen', () => receiver!.lines().length > 0, 10_000)
    run = t.spawn(['run', path.join(dir, 'pipeline.yaml')])

    const answer = await postUntilListening(`http://127.0.0.1:${httpPort}/readings`, await readFile(path.join(dir, 'readings.ndjson')))
    expect(answer.status).toBe(200)
    expect(answer.text).toBe('{"accepted":24,"rejected":0}')
    expect(blocks).toContain(answer.text)

    // The listening line and 5 alerts; nothing more arrives (checked again after the drain).
    await waitFor('5 alerts', () => receiver!.lines().length >= 6)
    stopByPid(run.child, 'SIGTERM')
    expect(await run.exited, run.stderr()).toBe(0)
    expect(lastLine(run.stderr())).toBe('alerts: 24 records in, 0 to the dead-letter queue, stopped')
    expect(blocks).toContain(lastLine(run.stderr()))

    const lines = receiver.lines().map((l) => l.replace(`127.0.0.1:${receiverPort}`, '127.0.0.1:9099'))
    expect(lines).toHaveLength(6)
    expect(lines.filter((l) => l.includes('repeat of'))).toEqual([])
    expect(blocks).toContain(lines.join('\n'))

    const q = await runCli(['query', QUERY], t.env)
    expect(q.code, q.stderr).toBe(0)
    expect(q.stdout.trimEnd().split('\n')).toEqual([
      'boiler    readings  hottest  alerts',
      '--------  --------  -------  ------',
      'boiler-1         8       76       0',
      'boiler-2         8     93.5       2',
      'boiler-3         8       97       3',
      '(3 rows)',
    ])
    expect(blocks).toContain(q.stdout.trimEnd())
  })
})
