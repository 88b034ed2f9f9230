import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { Kvm } from '@nats-io/kv'
import type { NatsConnection } from '@nats-io/nats-core'
import { startNatsServer } from '../helpers/nats-server.js'
import { makeTempDir } from '../helpers/tmp.js'
import { assertBuilt } from '../helpers/cli.js'
import { cli, startWorkerProcess, waitFor, type WorkerProcess } from '../helpers/fleet.js'
import { connectNats } from '../../core/nats/connect.js'
import { formatUserConfig, pipelinePermissions, workerPermissions } from '../../core/fleet/permissions.js'
import { readFleetStatus } from '../../core/fleet/status.js'

// Least privilege on a nats-server with users and permissions: the worker's own user reaches only
// the fleet's buckets; each pipeline runs on the user its file names, whose permissions are what
// `pipelines deploy --emit-permissions` prints. One pipeline's user cannot read another's subjects.
let nats: Awaited<ReturnType<typeof startNatsServer>>
let tmp: Awaited<ReturnType<typeof makeTempDir>>
let admin: NatsConnection
let worker: WorkerProcess | undefined
const N = 2000

function url(user: string, pass: string): string {
  return nats.url.replace('nats://', `nats://${user}:${pass}@`)
}

function pipelineFile(name: string, user: string, passVar: string): string {
  return `name: ${name}
source: { use: generate, config: { template: { id: "i" }, count: ${N}, batchSize: 200 } }
sinks: [ { use: file, config: { path: ${name}.ndjson } } ]
nats: { servers: "${nats.url}", user: ${user}, password: "\${env:${passVar}}" }
`
}

/** Resolves with the error the server (or the client) raised, or undefined when the operation worked. */
async function refused(op: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await op()
    return undefined
  } catch (err) {
    return (err as Error).message
  }
}

describe('a worker holding one pipeline\'s credentials', () => {
  beforeAll(async () => {
    assertBuilt()
    tmp = await makeTempDir('creds')
    const conf = path.join(tmp.dir, 'nats.conf')
    await writeFile(conf, `authorization {
  users = [
    { user: admin, password: "adminpw" }
    ${formatUserConfig('fleet', '"fleetpw"', workerPermissions('default'))}
    ${formatUserConfig('pa', '"papw"', pipelinePermissions('seca'))}
    ${formatUserConfig('pb', '"pbpw"', pipelinePermissions('secb'))}
    ${formatUserConfig('pc', '"pcpw"', pipelinePermissions('secc'))}
  ]
}
`)
    nats = await startNatsServer({ args: ['-c', conf] })
    admin = await connectNats({ servers: [nats.url], user: 'admin', password: 'adminpw' })
  })

  afterAll(async () => {
    await worker?.kill9()
    await admin?.close()
    await nats?.stop()
    await tmp?.remove()
  })

  it('--emit-permissions prints the pipeline\'s least-privilege user', async () => {
    const f = path.join(tmp.dir, 'seca.yaml')
    await writeFile(f, pipelineFile('seca', 'pa', 'PA_PASS'))
    const r = await cli(['pipelines', 'deploy', f, '--emit-permissions', '--json'], { ...process.env, PA_PASS: 'papw' })
    const out = JSON.parse(r.stdout) as { user: string; permissions: { publish: { allow: string[] }; subscribe: { allow: string[] } }; config: string }
    expect(out.user).toBe('pa')
    expect(out.permissions).toEqual(pipelinePermissions('seca'))
    expect(out.permissions.publish.allow).toContain('trib.seca.>')
    expect(out.permissions.publish.allow.filter((s) => s.includes('secb'))).toEqual([])
    expect(out.config).toContain('password: $SECA_NATS_PASSWORD')
  })

  it('`tributary run` works on the same least-privilege user (its run lease included)', async () => {
    const f = path.join(tmp.dir, 'secc.yaml')
    await writeFile(f, pipelineFile('secc', 'pc', 'PC_PASS'))
    const r = await cli(['run', f], { ...process.env, TRIBUTARY_HOME: path.join(tmp.dir, 'home-run'), PC_PASS: 'pcpw' })
    expect(r.code, r.stderr.slice(-3000)).toBe(0)
    expect(r.stderr).not.toMatch(/permission/i)
    expect((await readFile(path.join(tmp.dir, 'secc.ndjson'), 'utf8')).split('\n').filter(Boolean).length).toBe(N)
  })

  it('runs each pipeline on its own user, and that user cannot reach the other pipeline', async () => {
    const env = { ...process.env, NATS_URL: url('admin', 'adminpw'), TRIBUTARY_HOME: path.join(tmp.dir, 'homes'), PA_PASS: 'papw', PB_PASS: 'pbpw' }
    for (const [name, user, pass] of [['seca', 'pa', 'PA_PASS'], ['secb', 'pb', 'PB_PASS']] as const) {
      const f = path.join(tmp.dir, `${name}.yaml`)
      await writeFile(f, pipelineFile(name, user, pass))
      await cli(['pipelines', 'deploy', f], env)
    }
    // The worker connects as `fleet` (the fleet's buckets only); secrets come from its environment.
    worker = startWorkerProcess('sec-worker', { ...env, NATS_URL: url('fleet', 'fleetpw') })
    for (const name of ['seca', 'secb']) {
      await waitFor(`${name} written`, async () => (await readFile(path.join(tmp.dir, `${name}.ndjson`), 'utf8').catch(() => '')).split('\n').filter(Boolean).length === N, 120_000)
      const s = await readFleetStatus(admin, 'default', name, 'test')
      expect(s.state).toBe('running')
      expect(s.lastError).toBeUndefined()
    }

    const pa = await connectNats({ servers: [nats.url], user: 'pa', password: 'papw' })
    try {
      const jsm = await jetstreamManager(pa, { timeout: 2000 })
      // Its own pipeline: stream, consumers, state.
      expect((await jsm.streams.info('TRIB_SECA')).state.messages).toBe(N)
      expect(await new Kvm(jetstream(pa)).open('trib-state-seca').then((kv) => kv.get('generate.position')).then((e) => e?.json())).toBeDefined()
      // The other one: refused.
      expect(await refused(() => jsm.streams.info('TRIB_SECB'))).toMatch(/permission|timeout/i)
      expect(await refused(() => jsm.consumers.info('TRIB_SECB', 'secb--file'))).toMatch(/permission|timeout/i)
      expect(await refused(async () => (await new Kvm(jetstream(pa, { timeout: 2000 })).open('trib-state-secb')).get('generate.position'))).toMatch(/permission|timeout/i)
      const sub = pa.subscribe('trib.secb.>')
      // nats.js resolves `closed` with the server's error (it does not reject).
      const closedWith = await sub.closed.catch((err: unknown) => err)
      expect(closedWith instanceof Error ? closedWith.message : 'closed without error').toMatch(/permission/i)
      expect(await refused(() => pa.request('trib.secb.generate', 'x', { timeout: 2000 }))).toMatch(/permission|timeout|no responders/i)
      // Nor write another pipeline's run lease (the bucket is shared, its keys are not).
      expect(await refused(() => jetstream(pa, { timeout: 2000 }).publish('$KV.trib-run-leases.secb', 'x'))).toMatch(/permission|timeout|no responders/i)
      // Nor can it touch the fleet's deployments.
      expect(await refused(async () => (await new Kvm(jetstream(pa, { timeout: 2000 })).open('trib-fleet-default')).get('pipelines.secb'))).toMatch(/permission|timeout/i)
    } finally {
      await pa.close()
    }
  })
})
