import { describe, expect, it } from 'vitest'
import { TributaryError } from '../../core/errors.js'
import { chooseConfiguredNats } from '../../core/nats/choose-nats.js'
import { normalizeNatsConfig, parseServerList } from '../../core/nats/server-list.js'
import { resolveNats } from '../../core/nats/resolve.js'

const fromFile = { servers: ['nats://file-host:4222'], user: 'svc', password: 'from-file' }

describe('NATS resolution order: --nats > NATS_URL > pipeline file > up > private', () => {
  it('the flag wins over NATS_URL and the file', () => {
    expect(chooseConfiguredNats({ flag: 'nats://flag:4222', env: { NATS_URL: 'nats://env:4222' }, fromFile })).toEqual({ origin: 'flag', config: { servers: ['nats://flag:4222'] } })
  })

  it('NATS_URL wins over the file', () => {
    expect(chooseConfiguredNats({ env: { NATS_URL: 'nats://env:4222' }, fromFile })).toEqual({ origin: 'env', config: { servers: ['nats://env:4222'] } })
  })

  it('the file is used when neither flag nor NATS_URL is set (blank counts as unset)', () => {
    expect(chooseConfiguredNats({ flag: '  ', env: { NATS_URL: '' }, fromFile })).toEqual({ origin: 'file', config: fromFile })
  })

  it('nothing configured: undefined, so the caller turns to the local server', () => {
    expect(chooseConfiguredNats({ env: {} })).toBeUndefined()
    expect(chooseConfiguredNats({})).toBeUndefined()
  })

  it('resolveNats returns a configured origin without touching the home', async () => {
    const r = await resolveNats({ env: { NATS_URL: 'nats://a:4222,nats://b:4222' }, home: '/nonexistent/home' })
    expect(r.origin).toBe('env')
    expect(r.config.servers).toEqual(['nats://a:4222', 'nats://b:4222'])
    await r.release()
  })
})

describe('server lists', () => {
  it('splits a comma-separated list and trims it', () => {
    expect(parseServerList(' nats://a:4222 , b:4222,')).toEqual({ servers: ['nats://a:4222', 'b:4222'] })
  })

  it('moves user:pass@ out of the URLs (decoded), so servers are safe to print', () => {
    expect(parseServerList('nats://alice:p%40ss%3Aword@h1:4222,nats://h2:4222')).toEqual({ servers: ['nats://h1:4222', 'nats://h2:4222'], user: 'alice', password: 'p@ss:word' })
    expect(parseServerList('alice:pw@127.0.0.1:4222')).toEqual({ servers: ['127.0.0.1:4222'], user: 'alice', password: 'pw' })
  })

  it('a lone user part is a token (nats convention)', () => {
    expect(parseServerList('tls://s3cret@h:4222')).toEqual({ servers: ['tls://h:4222'], token: 's3cret' })
  })

  it('different credentials in two URLs are refused without echoing them', () => {
    const err = (() => {
      try {
        parseServerList('nats://a:one-secret@h1,nats://a:two-secret@h2')
      } catch (e) {
        return e as TributaryError
      }
    })()
    expect(err).toBeInstanceOf(TributaryError)
    expect(err!.code).toBe('E_USAGE')
    expect(err!.message).not.toMatch(/one-secret|two-secret/)
  })

  it('a list with no server is a usage error', () => {
    expect(() => parseServerList(' , ')).toThrow(TributaryError)
  })

  it('file configs: explicit fields win over credentials in their URLs', () => {
    expect(normalizeNatsConfig({ servers: ['nats://u:url-pass@h:4222'] })).toEqual({ servers: ['nats://h:4222'], user: 'u', password: 'url-pass' })
    expect(normalizeNatsConfig({ servers: ['nats://u:url-pass@h:4222'], token: 'tok' })).toEqual({ servers: ['nats://h:4222'], token: 'tok' })
  })
})
