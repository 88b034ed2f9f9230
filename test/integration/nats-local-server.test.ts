import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { homePaths } from '../../core/home/paths.js'
import { connectNats } from '../../core/nats/connect.js'
import { ensureJetStream } from '../../core/nats/jetstream-check.js'
import { acquireLocalServer, serverStatus, startUpServer, stopServer } from '../../core/nats/local-server.js'
import { isAlive, isNatsServerOn, natsServersOn, terminate, waitForExit } from '../../core/nats/process.js'
import { spawnNatsServer } from '../../core/nats/spawn-server.js'
import { transpileForChild } from '../helpers/transpile-for-child.js'

/**
 * Other Tributary processes on the same home are real child processes. They run the current
 * local-server.ts transpiled into a temp dir (not dist/, which may be missing or stale while
 * the tree is edited). Everything started here is stopped by pid in afterEach, whatever happened.
 */

const CHILD = `
const [modUrl, home, action] = process.argv.slice(1)
const m = await import(modUrl)
if (action === 'up') {
  const st = await m.startUpServer(home)
  console.log(JSON.stringify({ url: st.url, pid: st.pid, mode: st.mode }))
} else {
  const lease = await m.acquireLocalServer(home)
  console.log(JSON.stringify({ url: lease.url, pid: lease.pid, mode: lease.mode }))
  for await (const line of (await import('node:readline')).createInterface({ input: process.stdin })) {
    if (line === 'release') break
  }
  process.stdin.destroy() // a paused stdin pipe would keep this process alive
  await lease.release()
  console.log('released')
}
`

interface ChildLease {
  proc: ChildProcess
  url: string
  pid: number
  mode: string
  release(): Promise<void>
  kill9(): Promise<void>
}

let work: string
let modUrl: string
const children = new Set<ChildProcess>()
const stores = new Set<string>()

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'trib-localnats-'))
  modUrl = await transpileForChild('core/nats/local-server.ts', path.join(work, 'js'))
})

afterEach(async () => {
  for (const c of children) if (c.pid && isAlive(c.pid)) process.kill(c.pid, 'SIGKILL')
  children.clear()
  for (const store of stores) for (const pid of natsServersOn(store)) await terminate(pid, 2_000)
  stores.clear()
})

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true })
})

let homes = 0
function newHome(): { home: string; store: string; natsDir: string } {
  const home = path.join(work, `home-${++homes}`)
  const { natsStore, natsDir } = homePaths(home)
  stores.add(natsStore)
  return { home, store: natsStore, natsDir }
}

async function childAcquire(home: string, action: 'acquire' | 'up' = 'acquire'): Promise<ChildLease> {
  const proc = spawn(process.execPath, ['--input-type=module', '-e', CHILD, modUrl, home, action], { stdio: ['pipe', 'pipe', 'inherit'] })
  children.add(proc)
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)))
  const lines = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]()
  const first = await lines.next()
  if (first.done) throw new Error(`child exited with ${await exited} before acquiring`)
  const info = JSON.parse(first.value as string) as { url: string; pid: number; mode: string }
  return {
    proc,
    ...info,
    async release() {
      proc.stdin!.write('release\n')
      expect((await lines.next()).value).toBe('released')
      expect(await exited).toBe(0)
    },
    async kill9() {
      proc.kill('SIGKILL')
      await exited
    },
  }
}

describe('local nats-server of a home', () => {
  it('a second process shares the private server; the last release stops it', async () => {
    const { home, store, natsDir } = newHome()
    const a = await childAcquire(home)
    expect(a.mode).toBe('private')
    expect(isNatsServerOn(a.pid, store)).toBe(true)

    const b = await acquireLocalServer(home)
    expect(b).toMatchObject({ url: a.url, pid: a.pid, mode: 'private' })
    expect(await serverStatus(home)).toMatchObject({ running: true, mode: 'private', users: 2, pid: a.pid })

    // It is a working JetStream server on 127.0.0.1.
    expect(a.url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/)
    const nc = await connectNats({ servers: [b.url] })
    await ensureJetStream(nc)
    await nc.close()

    await a.release()
    expect(isNatsServerOn(b.pid, store)).toBe(true)
    await b.release()
    await b.release() // idempotent
    expect(isAlive(b.pid)).toBe(false)
    expect(await serverStatus(home)).toMatchObject({ running: false })
    expect(existsSync(path.join(natsDir, 'server.json'))).toBe(false)
    expect(natsServersOn(store)).toEqual([])
  })

  it('what one command wrote through its private server is there for the next command (same store)', async () => {
    const { home } = newHome()
    const first = await acquireLocalServer(home)
    let nc = await connectNats({ servers: [first.url] })
    await (await jetstreamManager(nc)).streams.add({ name: 'KEPT', subjects: ['kept.>'] })
    await jetstream(nc).publish('kept.a', 'x')
    await nc.close()
    await first.release()
    expect(isAlive(first.pid)).toBe(false)

    const second = await acquireLocalServer(home)
    expect(second.pid).not.toBe(first.pid)
    nc = await connectNats({ servers: [second.url] })
    expect((await (await jetstreamManager(nc)).streams.info('KEPT')).state.messages).toBe(1)
    await nc.close()
    await second.release()
  })

  it('racing first acquires from several processes start exactly one server', async () => {
    const { home, store } = newHome()
    const [c1, c2, c3, self] = await Promise.all([childAcquire(home), childAcquire(home), childAcquire(home), acquireLocalServer(home)])
    expect(new Set([c1.pid, c2.pid, c3.pid, self.pid]).size).toBe(1)
    expect(natsServersOn(store)).toEqual([self.pid])
    await Promise.all([c1.release(), c2.release(), c3.release()])
    expect(isNatsServerOn(self.pid, store)).toBe(true)
    await self.release()
    expect(natsServersOn(store)).toEqual([])
  })

  it('a server left by a SIGKILLed command is reused, never duplicated, and stopped by its last user', async () => {
    const { home, store, natsDir } = newHome()
    const crashed = await childAcquire(home)
    await crashed.kill9()
    expect(isNatsServerOn(crashed.pid, store)).toBe(true)
    // The dead user no longer counts.
    expect(await serverStatus(home)).toMatchObject({ running: true, pid: crashed.pid, users: 0 })

    const [c1, c2, self] = await Promise.all([childAcquire(home), childAcquire(home), acquireLocalServer(home)])
    expect([c1.pid, c2.pid, self.pid]).toEqual([crashed.pid, crashed.pid, crashed.pid])
    expect(natsServersOn(store)).toEqual([crashed.pid])
    await c1.release()
    await c2.release()
    await self.release()
    expect(natsServersOn(store)).toEqual([])
    expect(await readdir(path.join(natsDir, 'users'))).toEqual([]) // the crashed user's file was pruned
  })

  it('a state file (and a lock) whose pid is dead is cleaned up; a pid reused by another process is never killed', async () => {
    const { home, store, natsDir } = newHome()
    const state = (pid: number) => JSON.stringify({ pid, port: 1, url: 'nats://127.0.0.1:1', mode: 'private', startedAt: new Date().toISOString(), store })

    const gone = spawn(process.execPath, ['-e', ''])
    await new Promise((r) => gone.once('exit', r))
    await mkdir(natsDir, { recursive: true })
    await writeFile(path.join(natsDir, 'server.json'), state(gone.pid!))
    await writeFile(path.join(natsDir, 'server.lock'), String(gone.pid)) // and its holder died holding the lock
    const first = await acquireLocalServer(home)
    expect(first.pid).not.toBe(gone.pid)
    expect(isNatsServerOn(first.pid, store)).toBe(true)
    await first.release()

    // A live process that is not our nats-server sits at the recorded pid.
    const other = spawn('sleep', ['60'], { stdio: 'ignore' })
    children.add(other)
    await writeFile(path.join(natsDir, 'server.json'), state(other.pid!))
    const second = await acquireLocalServer(home)
    expect(second.pid).not.toBe(other.pid)
    await second.release()
    expect(isAlive(other.pid!)).toBe(true)
    expect(await stopServer(home)).toMatchObject({ stopped: false })
    expect(isAlive(other.pid!)).toBe(true)
  })

  it('`up` outlives its command, is shared without being stopped, and `down` stops it', async () => {
    const { home, store } = newHome()
    const up = await childAcquire(home, 'up')
    expect(up.mode).toBe('up')
    expect(await waitForExit(up.proc.pid!, 10_000)).toBe(true)
    expect(await serverStatus(home)).toMatchObject({ running: true, mode: 'up', pid: up.pid, url: up.url })

    const lease = await acquireLocalServer(home)
    expect(lease).toMatchObject({ mode: 'up', pid: up.pid, url: up.url })
    await lease.release()
    expect(isNatsServerOn(up.pid, store)).toBe(true)

    expect(await stopServer(home)).toEqual({ stopped: true, pid: up.pid, mode: 'up' })
    expect(isAlive(up.pid)).toBe(false)
    expect(await serverStatus(home)).toMatchObject({ running: false })
    expect(await stopServer(home)).toMatchObject({ stopped: false })
  })

  it('`up` promotes a running private server instead of starting a second one', async () => {
    const { home, store } = newHome()
    const lease = await acquireLocalServer(home)
    const up = await startUpServer(home)
    expect(up).toMatchObject({ pid: lease.pid, mode: 'up', running: true })
    await lease.release()
    expect(natsServersOn(store)).toEqual([lease.pid])
    await stopServer(home)
    expect(natsServersOn(store)).toEqual([])
  })

  it('an unrecorded nats-server on the store (its starter died before writing the state) is adopted, not doubled', async () => {
    const { home, store, natsDir } = newHome()
    const orphan = await spawnNatsServer({ store, portsDir: path.join(natsDir, 'ports'), logFile: path.join(natsDir, 'server.log'), detached: true })
    const lease = await acquireLocalServer(home)
    expect(lease).toMatchObject({ pid: orphan.pid, url: orphan.url, mode: 'private' })
    expect(natsServersOn(store)).toEqual([orphan.pid])
    await lease.release()
    expect(natsServersOn(store)).toEqual([])
  })

  it('two spellings of one home (a symlink) share one server', async () => {
    const { home, store } = newHome()
    await mkdir(home, { recursive: true })
    const alias = `${home}-alias`
    await symlink(home, alias)
    stores.add(homePaths(alias).natsStore)
    const a = await acquireLocalServer(home)
    const b = await acquireLocalServer(alias)
    expect(b.pid).toBe(a.pid)
    await a.release()
    await b.release()
    expect(natsServersOn(store)).toEqual([])
  })

  it('a missing nats-server binary is E_NATS_SERVER with an install hint', async () => {
    const { store, natsDir } = newHome()
    const err = await spawnNatsServer({ bin: path.join(work, 'no-such-nats-server'), store, portsDir: natsDir, logFile: path.join(natsDir, 'server.log') }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'E_NATS_SERVER', hint: expect.stringMatching(/apt install nats-server/) })
  })

  it('`down` stops a private server left by a crashed command', async () => {
    const { home, store } = newHome()
    const crashed = await childAcquire(home)
    await crashed.kill9()
    expect(await stopServer(home)).toEqual({ stopped: true, pid: crashed.pid, mode: 'private' })
    expect(natsServersOn(store)).toEqual([])
  })
})
