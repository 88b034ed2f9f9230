import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { TributaryError } from '../../core/errors.js'
import { connectNats } from '../../core/nats/connect.js'
import { ensureJetStream } from '../../core/nats/jetstream-check.js'
import { resolveNats } from '../../core/nats/resolve.js'
import { startNatsServer, type TestNatsServer } from '../helpers/nats-server.js'
import { freePort } from '../helpers/free-port.js'

const PASSWORD = 'p4ss-w0rd-Zq9'
const WRONG = 'wr0ng-pass-Xy7'
const TOKEN = 't0ken-Sx81-secret'

async function connectError(p: Promise<unknown>): Promise<TributaryError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(TributaryError)
  return err as TributaryError
}

describe('connectNats', () => {
  const servers: TestNatsServer[] = []
  let userPass: TestNatsServer
  let token: TestNatsServer
  let noJs: TestNatsServer

  beforeAll(async () => {
    // Pushed one by one so afterAll stops whatever did start, even if a later one fails.
    servers.push((userPass = await startNatsServer({ args: ['--user', 'alice', '--pass', PASSWORD] })))
    servers.push((token = await startNatsServer({ args: ['--auth', TOKEN] })))
    servers.push((noJs = await startNatsServer({ jetstream: false })))
  })

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()))
  })

  it('authenticates with user/password, and the connection has JetStream', async () => {
    const nc = await connectNats({ servers: [userPass.url], user: 'alice', password: PASSWORD }, { name: 'test' })
    try {
      const info = await ensureJetStream(nc)
      expect(info.streams).toBe(0)
    } finally {
      await nc.close()
    }
  })

  it('a wrong password is E_NATS with a hint, and neither password appears in the message', async () => {
    const err = await connectError(connectNats({ servers: [userPass.url], user: 'alice', password: WRONG }))
    expect(err.code).toBe('E_NATS')
    expect(err.message).toContain(`cannot connect to NATS at ${userPass.url}`)
    expect(err.hint).toMatch(/credentials/)
    for (const text of [err.message, err.hint ?? '']) {
      expect(text).not.toContain(WRONG)
      expect(text).not.toContain(PASSWORD)
    }
  })

  it('authenticates with a token; a wrong token does not leak into the error', async () => {
    const nc = await connectNats({ servers: [token.url], token: TOKEN })
    await nc.flush()
    await nc.close()
    const err = await connectError(connectNats({ servers: [token.url], token: 'not-the-token-123' }))
    expect(err.code).toBe('E_NATS')
    expect(err.message).not.toContain('not-the-token-123')
  })

  it('credentials in a --nats URL are used and stripped from the resolved servers', async () => {
    const url = `nats://alice:${encodeURIComponent(PASSWORD)}@127.0.0.1:${userPass.port}`
    const r = await resolveNats({ flag: url, env: {}, home: '/nonexistent-home' })
    expect(r.origin).toBe('flag')
    expect(r.config.servers).toEqual([`nats://127.0.0.1:${userPass.port}`])
    const nc = await connectNats(r.config)
    await nc.close()
    await r.release()

    const t = await resolveNats({ flag: `${TOKEN}@127.0.0.1:${token.port}`, home: '/nonexistent-home' })
    const nc2 = await connectNats(t.config)
    await nc2.close()
  })

  it('nobody listening is E_NATS with a hint to start a server', async () => {
    const port = await freePort()
    const err = await connectError(connectNats({ servers: [`nats://127.0.0.1:${port}`] }))
    expect(err.code).toBe('E_NATS')
    expect(err.hint).toMatch(/tributary up/)
  })

  it('a missing creds file is E_FILE naming the file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'trib-creds-'))
    try {
      const err = await connectError(connectNats({ servers: [token.url], creds: path.join(dir, 'missing.creds') }))
      expect(err.code).toBe('E_FILE')
      expect(err.message).toContain('missing.creds')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('after kill -9 and a restart on the same port and store, the client reconnects by itself and the data is there', async () => {
    const s = await startNatsServer()
    try {
      const nc = await connectNats({ servers: [s.url] }, { name: 'restart' })
      try {
        const jsm = await jetstreamManager(nc)
        await jsm.streams.add({ name: 'RESTART', subjects: ['restart.>'] })
        await jetstream(nc).publish('restart.a', 'x')
        const reconnected = (async () => {
          for await (const st of nc.status()) if (st.type === 'reconnect') return
        })()
        const oldPid = s.pid
        s.kill9()
        await s.restart()
        expect(s.pid).not.toBe(oldPid)
        await reconnected
        expect((await jsm.streams.info('RESTART')).state.messages).toBe(1)
      } finally {
        await nc.close()
      }
    } finally {
      await s.stop()
    }
  })

  it('a server without JetStream fails the check with the -js hint', async () => {
    const nc = await connectNats({ servers: [noJs.url] })
    try {
      const err = await connectError(ensureJetStream(nc))
      expect(err.code).toBe('E_NATS')
      expect(err.hint).toMatch(/start nats-server with -js/)
    } finally {
      await nc.close()
    }
  })
})
