import { describe, expect, it } from 'vitest'
import { withEnvAuth } from '../../core/nats/env-auth.js'
import { chooseConfiguredNats } from '../../core/nats/choose-nats.js'

describe('NATS credentials and TLS from the environment (the nats CLI names)', () => {
  it('adds creds, nkey and TLS files, and user/password when the URL has none', () => {
    const env = { NATS_USER: 'w', NATS_PASSWORD: 'pw', NATS_CREDS: '/c/w.creds', NATS_NKEY: '/c/w.nk', NATS_CA: '/c/ca.pem', NATS_CERT: '/c/w.pem', NATS_KEY: '/c/w.key' }
    expect(withEnvAuth({ servers: ['tls://h:4222'] }, env)).toEqual({ servers: ['tls://h:4222'], user: 'w', password: 'pw', creds: '/c/w.creds', nkey: '/c/w.nk', tls: { ca: '/c/ca.pem', cert: '/c/w.pem', key: '/c/w.key' } })
  })

  it('credentials in the URL win; a token is used only without a user; nothing set changes nothing', () => {
    expect(withEnvAuth({ servers: ['h'], user: 'url' , password: 'x' }, { NATS_USER: 'env', NATS_TOKEN: 't' })).toEqual({ servers: ['h'], user: 'url', password: 'x' })
    expect(withEnvAuth({ servers: ['h'] }, { NATS_TOKEN: 't' })).toEqual({ servers: ['h'], token: 't' })
    expect(withEnvAuth({ servers: ['h'] }, { NATS_CA: '  ' })).toEqual({ servers: ['h'] })
  })

  it('applies to NATS_URL and --nats, not to a pipeline file\'s own block', () => {
    const env = { NATS_URL: 'nats://a:4222', NATS_CREDS: '/c/w.creds' }
    expect(chooseConfiguredNats({ env })).toEqual({ origin: 'env', config: { servers: ['nats://a:4222'], creds: '/c/w.creds' } })
    expect(chooseConfiguredNats({ flag: 'nats://f:4222', env })).toEqual({ origin: 'flag', config: { servers: ['nats://f:4222'], creds: '/c/w.creds' } })
    expect(chooseConfiguredNats({ env: { NATS_CREDS: '/c/w.creds' }, fromFile: { servers: ['nats://file:4222'] } })).toEqual({ origin: 'file', config: { servers: ['nats://file:4222'] } })
  })
})
