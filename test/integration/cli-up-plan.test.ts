import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { makeTempDir } from '../helpers/tmp.js'
import { assertBuilt, runCli } from '../helpers/cli.js'
import { natsServersOn } from '../../core/nats/process.js'

let tmp: Awaited<ReturnType<typeof makeTempDir>>
let env: NodeJS.ProcessEnv
let home: string

beforeAll(async () => {
  assertBuilt()
  tmp = await makeTempDir('cli-up')
  home = path.join(tmp.dir, 'home')
  env = { ...process.env, TRIBUTARY_HOME: home }
  delete env.NATS_URL
  delete env.CLICKHOUSE_URL
})

afterAll(async () => {
  for (const pid of natsServersOn(path.join(home, 'nats', 'store'))) process.kill(pid, 'SIGKILL')
  await tmp?.remove()
})

describe('up, down, init and validate --plan', () => {
  it('up keeps a server for later commands; validate --plan shows creations, then resumes after a run; down stops it', async () => {
    const up = await runCli(['up', '--json'], env)
    expect(up.code, up.stderr).toBe(0)
    const st = JSON.parse(up.stdout) as { url: string; pid: number }
    expect(natsServersOn(path.join(home, 'nats', 'store'))).toEqual([st.pid])
    const status = await runCli(['up', '--status', '--json'], env)
    expect(JSON.parse(status.stdout)).toMatchObject({ running: true, mode: 'up', pid: st.pid })

    const init = await runCli(['init', tmp.dir, '--json'], env)
    expect(init.code, init.stderr).toBe(0)
    const pipeline = path.join(tmp.dir, 'pipeline.yaml')

    const plan1 = await runCli(['validate', pipeline, '--plan', '--json'], env)
    expect(plan1.code, plan1.stderr).toBe(0)
    const p1 = (JSON.parse(plan1.stdout) as { plan: { action: string; what: string; name: string }[] }[])[0]!.plan
    expect(p1).toEqual(expect.arrayContaining([
      expect.objectContaining({ action: 'create', what: 'stream', name: 'TRIB_STARTER' }),
      expect.objectContaining({ action: 'create', what: 'consumer', name: 'starter--filter' }),
      expect.objectContaining({ action: 'create', what: 'table', name: 'events' }),
    ]))

    const run = await runCli(['run', pipeline], env)
    expect(run.code, run.stderr).toBe(0)
    expect(natsServersOn(path.join(home, 'nats', 'store'))).toEqual([st.pid]) // the up server stays

    const plan2 = await runCli(['validate', pipeline, '--plan'], env)
    expect(plan2.code, plan2.stderr).toBe(0)
    expect(plan2.stdout).toMatch(/keep\s+stream\s+TRIB_STARTER/)
    expect(plan2.stdout).toMatch(/resume\s+consumer\s+starter--filter\s+continues after sequence 100/)
    expect(plan2.stdout).toMatch(/resume\s+position\s+file/)
    expect(plan2.stdout).toContain('Plan: no changes.')

    // Renaming the transform's stage id gives a new consumer that re-reads history.
    const renamedText = (await readFile(pipeline, 'utf8')).replace('- use: filter', '- id: keep-big\n    use: filter')
    await writeFile(path.join(tmp.dir, 'renamed.yaml'), renamedText)
    const plan3 = await runCli(['validate', path.join(tmp.dir, 'renamed.yaml'), '--plan', '--json'], env)
    expect(plan3.code, plan3.stderr).toBe(0)
    const p3 = (JSON.parse(plan3.stdout) as { plan: { action: string; what: string; name: string }[] }[])[0]!.plan
    expect(p3).toEqual(expect.arrayContaining([
      expect.objectContaining({ what: 'consumer', name: 'starter--keep-big' }),
      expect.objectContaining({ action: 'drop', what: 'consumer', name: 'starter--filter' }),
    ]))

    const down = await runCli(['down', '--json'], env)
    expect(down.code, down.stderr).toBe(0)
    expect(JSON.parse(down.stdout)).toMatchObject({ stopped: true, pid: st.pid })
    expect(natsServersOn(path.join(home, 'nats', 'store'))).toEqual([])
  })
})
