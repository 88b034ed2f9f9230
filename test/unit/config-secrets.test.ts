import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveSecrets } from '../../core/config/secrets.js'
import { formatPath } from '../../core/config/json-path.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trib-secrets-'))
  await writeFile(path.join(dir, 'db.pass'), 's3cret-from-file\n')
})
afterAll(() => rm(dir, { recursive: true, force: true }))

const env = { DB_USER: 'app', NATS_PASS: 'p@ss', EMPTY: '' }

describe('resolveSecrets', () => {
  it('resolves whole and embedded references anywhere, files relative to the base folder, one newline trimmed', async () => {
    const input = { sinks: [{ config: { user: '${env:DB_USER}', password: '${file:db.pass}', n: 3 } }], nats: { servers: ['nats://app:${env:NATS_PASS}@h:4222'] } }
    const r = await resolveSecrets(input, { baseDir: dir, env })
    expect(r.issues).toEqual([])
    expect(r.value).toEqual({ sinks: [{ config: { user: 'app', password: 's3cret-from-file', n: 3 } }], nats: { servers: ['nats://app:p@ss@h:4222'] } })
    expect(r.secrets.sort()).toEqual(['app', 'p@ss', 's3cret-from-file'])
    expect(input.sinks[0]!.config.user).toBe('${env:DB_USER}') // the input is not changed
  })

  it('$${...} is a literal ${...}', async () => {
    const r = await resolveSecrets({ a: 'cost: $${env:X} and ${env:DB_USER}' }, { baseDir: dir, env })
    expect(r.value).toEqual({ a: 'cost: ${env:X} and app' })
    expect(r.issues).toEqual([])
  })

  it('an empty variable resolves to "" and is not listed as a secret (redacting "" would blank every log line)', async () => {
    const r = await resolveSecrets({ a: '${env:EMPTY}' }, { baseDir: dir, env })
    expect(r.value).toEqual({ a: '' })
    expect(r.secrets).toEqual([])
  })

  it('a missing variable is an issue at its path that names it and says how to fix it', async () => {
    const r = await resolveSecrets({ sinks: [{ config: { url: '${env:ALERT_URL}' } }] }, { baseDir: dir, env })
    expect(r.issues.map((i) => [formatPath(i.at), i.message])).toEqual([
      ['sinks[0].config.url', 'environment variable ALERT_URL is not set (referenced as ${env:ALERT_URL}); set it before running, e.g. `export ALERT_URL=...`'],
    ])
    expect(r.value).toEqual({ sinks: [{ config: { url: '${env:ALERT_URL}' } }] })
  })

  it('a missing file is an issue that names the file, never its content', async () => {
    const r = await resolveSecrets({ p: '${file:nope.txt}' }, { baseDir: dir, env })
    expect(r.issues).toHaveLength(1)
    expect(r.issues[0]!.message).toBe(`cannot read ${path.join(dir, 'nope.txt')} (referenced as \${file:nope.txt}): no such file; create the file or fix the path (it is relative to the pipeline file)`)
  })

  it('an unknown kind of reference is an issue, with ${env:NAME} suggested for a bare name', async () => {
    const r = await resolveSecrets({ a: '${HOME}', b: '${vault:x}' }, { baseDir: dir, env })
    expect(r.issues.map((i) => [formatPath(i.at), i.suggestion])).toEqual([
      ['a', '${env:HOME}'],
      ['b', undefined],
    ])
    expect(r.issues[1]!.message).toMatch(/write \$\{env:NAME\} or \$\{file:path\}, or \$\$\{\.\.\.\} for a literal/)
  })

  it('no message contains a resolved value', async () => {
    const r = await resolveSecrets({ a: '${env:DB_USER}${env:MISSING}', b: '${file:db.pass}${file:missing}' }, { baseDir: dir, env })
    expect(r.issues).toHaveLength(2)
    for (const i of r.issues) {
      expect(i.message).not.toContain('app')
      expect(i.message).not.toContain('s3cret')
    }
  })
})
