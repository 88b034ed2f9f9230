/**
 * examples/team-push as its README runs it: a nats-server named in NATS_URL, the risk team's
 * subscriber, the pipeline in the background (compiled CLI, embedded ClickHouse in a fresh home),
 * the events POSTed, the ops and support subscriptions as curl makes them, a wrong token, SIGTERM,
 * the query. Every output is checked against the README's code blocks. The only changes: the
 * nats-server is the test helper's, and free ports replace 8090 and 9464 (in a copy of the
 * pipeline file).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { repoRoot, runCli, waitFor, type Background } from '../helpers/cli.js'
import { copyExample, fencedBlocks, lastLine, postUntilListening, readExampleReadme, spawnScript, stopByPid, type Script } from '../helpers/example.js'
import { freePort } from '../helpers/free-port.js'
import { startPipelineEnv, type PipelineEnv } from '../helpers/pipeline-env.js'
import { rawSubscription } from '../helpers/push-clients.js'

const QUERY = 'SELECT country, count() AS orders, sum(value) AS total FROM push_orders GROUP BY country ORDER BY country'
const OPS_TOKEN = 'ops-demo-token-1'
const SUPPORT_TOKEN = 'support-demo-token-2'

let t: PipelineEnv
let dir: string
let readme: string
let blocks: string[]
let httpPort: number
let metricsPort: number
let risk: Script | undefined
let run: Background | undefined

beforeAll(async () => {
  ;[t, httpPort, metricsPort] = await Promise.all([startPipelineEnv('example-team-push', { cli: true, env: { OPS_TOKEN, SUPPORT_TOKEN } }), freePort(), freePort()])
  readme = await readExampleReadme('team-push')
  blocks = fencedBlocks(readme)
  dir = await copyExample('team-push', t.dir, [
    { file: 'pipeline.yaml', from: 'port: 8090', to: `port: ${httpPort}` },
    { file: 'pipeline.yaml', from: 'port: 9464', to: `port: ${metricsPort}` },
  ])
})

afterAll(async () => {
  stopByPid(risk?.child)
  await risk?.exited
  await t?.close()
})

describe('examples/team-push', () => {
  it('the README shows the commands this test runs', () => {
    expect(readme).toContain('export NATS_URL=nats://127.0.0.1:4222')
    expect(readme).toContain('export OPS_TOKEN=ops-demo-token-1 SUPPORT_TOKEN=support-demo-token-2')
    expect(readme).toContain('node examples/team-fanout/team-risk.mjs &')
    expect(readme).toContain('node bin/run.js run examples/team-push/pipeline.yaml &')
    expect(readme).toContain('--data-binary @examples/team-push/events.ndjson http://127.0.0.1:8090/events')
    expect(readme).toContain(`curl -sN --max-time 2 -H "Authorization: Bearer $OPS_TOKEN" 'http://127.0.0.1:9464/push/ops?last=100'`)
    expect(readme).toContain(`curl -sN --max-time 2 -H "Authorization: Bearer $SUPPORT_TOKEN" -H 'Last-Event-ID: 3' http://127.0.0.1:9464/push/ops`)
    expect(readme).toContain(`curl -s -o /dev/null -w '%{http_code}\\n' -H 'Authorization: Bearer wrong-token' http://127.0.0.1:9464/push/ops`)
    expect(readme).toContain('kill %3; wait %3')
    expect(readme).toContain(`node bin/run.js query '${QUERY}'`)
  })

  it('each team gets exactly its subset, ops and support live with their own tokens: the README’s output, exactly', async () => {
    risk = spawnScript(path.join(repoRoot, 'examples', 'team-fanout', 'team-risk.mjs'), [], t.env)
    await waitFor('the risk team to listen', () => risk!.lines().length > 0, 10_000)
    run = t.spawn(['run', path.join(dir, 'pipeline.yaml')])

    const answer = await postUntilListening(`http://127.0.0.1:${httpPort}/events`, await readFile(path.join(dir, 'events.ndjson')))
    expect(answer.status).toBe(200)
    expect(answer.text).toBe('{"accepted":24,"rejected":0}')
    expect(blocks).toContain(answer.text)

    // The POST is answered once the events are in JetStream; the channel has them a moment later.
    const channel = `http://127.0.0.1:${metricsPort}/push/ops`
    const ops = await waitFor('the six ops events', async () => {
      const r = await rawSubscription(`${channel}?last=100`, { authorization: `Bearer ${OPS_TOKEN}` }, 2000)
      return r.body.includes('id: 6\n') ? r : undefined
    })
    expect(ops.status).toBe(200)
    expect(ops.body.split('\n').filter((l) => l.startsWith('id: '))).toEqual(['id: 1', 'id: 2', 'id: 3', 'id: 4', 'id: 5', 'id: 6'])
    expect(blocks).toContain(ops.body.replace(/\n+$/, ''))

    const support = await rawSubscription(channel, { authorization: `Bearer ${SUPPORT_TOKEN}`, 'last-event-id': '3' }, 2000)
    expect(support.status).toBe(200)
    expect(blocks).toContain(support.body.replace(/\n+$/, ''))

    const wrong = await fetch(channel, { headers: { authorization: 'Bearer wrong-token' } })
    expect(wrong.status).toBe(401)
    expect(blocks).toContain(String(wrong.status))
    const view = await fetch(`${channel}/view`)
    expect(view.status).toBe(200)
    expect(await view.text()).toContain('<table id="rows">')

    await waitFor('5 refunds', () => risk!.lines().length >= 6, 10_000)
    stopByPid(run.child, 'SIGTERM')
    expect(await run.exited, run.stderr()).toBe(0)
    expect(lastLine(run.stderr())).toBe('team-push: 24 records in, 0 to the dead-letter queue, stopped')
    expect(blocks).toContain(lastLine(run.stderr()))

    const q = await runCli(['query', QUERY], t.env)
    expect(q.code, q.stderr).toBe(0)
    expect(q.stdout.trimEnd().split('\n')).toEqual(['country  orders  total', '-------  ------  -----', 'DE            5   2144', 'ES            2    339', 'FR            7   3968', '(3 rows)'])
    expect(blocks).toContain(q.stdout.trimEnd())

    expect(risk.lines()).toHaveLength(6)
    expect(blocks).toContain(risk.lines().join('\n'))
  })
})
