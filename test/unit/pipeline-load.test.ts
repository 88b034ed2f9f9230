import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TributaryError, ValidationError, type ValidationIssue } from '../../core/errors.js'
import { loadPipeline, loadPipelineFromText } from '../../core/pipeline/load.js'
import { createRegistry } from '../../core/plugins/registry.js'
import type { PluginRegistry } from '../../core/plugins/types.js'

// Fixture plugins: file (source and sink), generate, filter, map, clickhouse, stdout.
const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'plugins')

let registry: PluginRegistry
let dir: string
let file: string
beforeAll(async () => {
  registry = await createRegistry({ builtinDir: fixtures })
  dir = await mkdtemp(path.join(tmpdir(), 'trib-load-'))
  file = path.join(dir, 'orders.yaml')
  await writeFile(path.join(dir, 'ch.pass'), 'pa55word\n')
})
afterAll(() => rm(dir, { recursive: true, force: true }))

const env = { CH_URL: 'http://ch.internal:8123', TABLE: 'orders' }
const load = (text: string, opts = { env }) => loadPipelineFromText(text, file, registry, opts)

/** The issues of a file that must fail, as `line:column path: message (suggestion)` lines. */
async function issuesOf(text: string, opts = { env }): Promise<string[]> {
  const issues = await rawIssues(text, opts)
  return issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}${i.suggestion ? ` (did you mean \`${i.suggestion}\`?)` : ''}`)
}

async function rawIssues(text: string, opts = { env }): Promise<ValidationIssue[]> {
  try {
    await load(text, opts)
  } catch (err) {
    if (err instanceof ValidationError) return err.issues
    throw err
  }
  throw new Error('expected the pipeline to be refused')
}

const minimal = `name: orders
source: { use: file, config: { path: data/in.ndjson } }
sinks:
  - { use: stdout }
`

describe('loadPipeline: a valid file', () => {
  it('applies the defaults of the pipeline schema and of each plugin', async () => {
    const spec = await load(minimal)
    expect(spec).toMatchObject({
      name: 'orders',
      file,
      baseDir: dir,
      transforms: [],
      retention: { maxAgeMs: 7 * 86_400_000, maxBytes: 1024 ** 3, duplicateWindowMs: 120_000 },
      delivery: { maxDeliver: 5, ackWaitMs: 60_000 },
      replicas: 1,
      secrets: [],
    })
    expect(spec.nats).toBeUndefined()
    expect(spec.source).toEqual({ id: 'file', kind: 'source', use: 'file', path: 'source', config: { path: path.join(dir, 'data/in.ndjson'), format: 'ndjson', batchSize: 100 } })
    expect(spec.sinks).toEqual([{ id: 'stdout', kind: 'sink', use: 'stdout', path: 'sinks[0]', config: { pretty: false } }])
  })

  it('derives stage ids, keeps explicit ones, and carries where and boundary', async () => {
    const spec = await load(`name: orders
source: { use: generate }
transforms:
  - { use: map }
  - { use: filter, config: { where: "value > 1" } }
  - { use: map, boundary: true }
  - { id: enrich, use: map }
sinks:
  - { use: file, config: { path: out.ndjson } }
  - { use: file, where: "value > 100", config: { path: big.ndjson } }
`)
    expect([spec.source, ...spec.transforms, ...spec.sinks].map((s) => s.id)).toEqual(['generate', 'map', 'filter', 'map-2', 'enrich', 'file', 'file-2'])
    expect(spec.transforms[2]!.boundary).toBe(true)
    expect(spec.sinks[1]!.where).toBe('value > 100')
    expect(spec.sinks[1]!.config.path).toBe(path.join(dir, 'big.ndjson'))
  })

  it('resolves secrets before checking, lists them for redaction, and normalizes nats and retention', async () => {
    const spec = await load(`name: orders
source: { use: generate }
sinks:
  - use: clickhouse
    config: { table: "\${env:TABLE}", url: "\${env:CH_URL}", password: "\${file:ch.pass}" }
retention: { maxAge: 24h, maxBytes: 512MB, duplicateWindow: 30s }
replicas: 3
nats:
  servers: "nats://a:4222, nats://b:4222"
  creds: secrets/app.creds
  tls: { ca: /etc/ca.pem }
`)
    expect(spec.sinks[0]!.config).toEqual({ table: 'orders', url: 'http://ch.internal:8123', password: 'pa55word', batch: { rows: 1000, maxWait: '1s' } })
    expect(spec.secrets.sort()).toEqual(['http://ch.internal:8123', 'orders', 'pa55word'])
    expect(spec.retention).toEqual({ maxAgeMs: 86_400_000, maxBytes: 512 * 1024 ** 2, duplicateWindowMs: 30_000 })
    expect(spec.replicas).toBe(3)
    expect(spec.nats).toEqual({ servers: ['nats://a:4222', 'nats://b:4222'], creds: path.join(dir, 'secrets/app.creds'), tls: { ca: path.resolve('/etc/ca.pem') } })
  })

  it('reads JSON files, and reads from disk', async () => {
    const json = path.join(dir, 'p.json')
    await writeFile(json, JSON.stringify({ name: 'j', source: { use: 'generate' }, sinks: [{ use: 'stdout' }] }, null, 2))
    const spec = await loadPipeline(json, registry, { env })
    expect(spec.name).toBe('j')
    expect(spec.file).toBe(json)
  })

  it('a missing file is one clear E_FILE error', async () => {
    const err = await loadPipeline(path.join(dir, 'nope.yaml'), registry).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TributaryError)
    expect((err as TributaryError).code).toBe('E_FILE')
    expect((err as TributaryError).message).toBe(`cannot read the pipeline file ${path.join(dir, 'nope.yaml')}: no such file`)
  })
})

describe('loadPipeline: every kind of error names file, line, column and path', () => {
  it('a YAML syntax error, with its line', async () => {
    const issues = await rawIssues('name: orders\nsource:\n  use: file\n   config: {}\n')
    expect(issues[0]).toMatchObject({ file, line: 3, path: '' })
    expect(issues[0]!.message).toMatch(/^not valid YAML: /)
  })

  it('an empty file', async () => {
    expect(await issuesOf('# nothing yet\n')).toEqual(['undefined:undefined : the file is empty; a pipeline needs at least `name`, `source` and `sinks` (`tributary init` writes an example)'])
  })

  it('an unknown top-level key, with did-you-mean (and not the "missing sinks" it causes)', async () => {
    expect(await issuesOf('name: orders\nsource: { use: generate }\nsink:\n  - { use: stdout }\n')).toEqual(['3:1 sink: unknown property "sink" (did you mean `sinks`?)'])
  })

  it('a missing required property', async () => {
    expect(await issuesOf('source: { use: generate }\nsinks: [{ use: stdout }]\n')).toEqual(['1:1 : missing required property "name"'])
  })

  it('a wrong type, quoting what was given', async () => {
    expect(await issuesOf('name: 42\nsource: { use: generate }\nsinks: [{ use: stdout }]\n')).toEqual(['1:1 name: must be string (got 42)'])
  })

  it('a name that cannot be a NATS subject token says what is allowed', async () => {
    expect(await issuesOf('name: My Orders\nsource: { use: generate }\nsinks: [{ use: stdout }]\n')).toEqual([
      '1:1 name: must be lowercase letters, digits, - and _, starting with a letter, at most 64 characters (got "My Orders")',
    ])
  })

  it('an enum miss, with the closest allowed value', async () => {
    expect(await issuesOf('name: o\nsource: { use: file, config: { path: x, format: ndjsn } }\nsinks: [{ use: stdout }]\n')).toEqual([
      '2:41 source.config.format: must be one of "ndjson", "csv", "lines" (got "ndjsn") (did you mean `ndjson`?)',
    ])
  })

  it('an unknown plugin, with did-you-mean over the plugins of that kind', async () => {
    expect(await issuesOf('name: o\nsource: { use: generate }\ntransforms:\n  - { use: map }\n  - { use: filtr, config: { where: "x" } }\nsinks: [{ use: stdout }]\n')).toEqual([
      '5:7 transforms[1].use: no transform plugin named "filtr"; run `tributary plugins list` to see the plugins (did you mean `filter`?)',
    ])
  })

  it('a plugin used as the wrong kind says which kind it is', async () => {
    expect(await issuesOf('name: o\nsource: { use: generate }\ntransforms: [{ use: stdout }]\nsinks: [{ use: stdout }]\n')).toEqual([
      '3:16 transforms[0].use: no transform plugin named "stdout"; "stdout" is a sink plugin, it cannot be used as a transform; run `tributary plugins list` to see the plugins',
    ])
  })

  it('a plugin config error at sinks[0].config.table, with its line', async () => {
    expect(await issuesOf('name: o\nsource: { use: generate }\nsinks:\n  - use: clickhouse\n    config:\n      table: 42\n')).toEqual(['6:7 sinks[0].config.table: must be string (got 42)'])
  })

  it('an unknown config key, with did-you-mean', async () => {
    expect(await issuesOf('name: o\nsource: { use: generate }\nsinks:\n  - { use: clickhouse, config: { tabel: t } }\n')).toEqual([
      '4:34 sinks[0].config.tabel: unknown property "tabel" (did you mean `table`?)',
    ])
  })

  it('a missing required config property, when config is not written at all', async () => {
    expect(await issuesOf('name: o\nsource: { use: file }\nsinks: [{ use: stdout }]\n')).toEqual(['2:1 source.config: missing required property "path"'])
  })

  it('reports every error at once, in file order, each with the file', async () => {
    const text = `name: Orders
source: { use: file, config: { path: x, batchSize: 0 } }
transforms:
  - { use: filtr }
  - { use: map, config: { sett: {} }, boundry: true }
sinks:
  - { use: clickhouse, config: { table: 42 } }
  - { use: stdout, where: "value >" }
retention: { maxAge: 7 days }
replicas: 2
`
    const issues = await rawIssues(text)
    expect(issues.every((i) => i.file === file && typeof i.line === 'number')).toBe(true)
    expect(issues.map((i) => `${i.line} ${i.path}`)).toEqual([
      '1 name',
      '2 source.config.batchSize',
      '4 transforms[0].use',
      '5 transforms[1].config.sett',
      '5 transforms[1].boundry',
      '7 sinks[0].config.table',
      '8 sinks[1].where',
      '9 retention.maxAge',
      '10 replicas',
    ])
    expect(issues.find((i) => i.path === 'transforms[1].boundry')!.suggestion).toBe('boundary')
    expect(issues.find((i) => i.path === 'transforms[1].config.sett')!.suggestion).toBe('set')
    expect(issues.find((i) => i.path === 'sinks[1].where')!.message).toMatch(/^expression `value >` does not parse/)
    expect(issues.find((i) => i.path === 'retention.maxAge')!.message).toBe('must be a duration such as 500ms, 30s, 5m, 2h or 7d (got "7 days")')
    expect(issues.find((i) => i.path === 'replicas')!.message).toBe('must be one of 1, 3, 5 (got 2)')
  })

  it('the ValidationError message lists every issue as file:line:column: path: message', async () => {
    const err = await load('name: o\nsource: { use: generate }\nsinks:\n  - { use: clickhouse, config: { tabel: t } }\n').catch((e: unknown) => e as ValidationError)
    expect(err.code).toBe('E_CONFIG')
    expect(err.message).toBe(`pipeline ${file} is invalid (1 error):\n  - ${file}:4:34: sinks[0].config.tabel: unknown property "tabel" (did you mean \`table\`?)`)
  })

  it('a missing env secret names the variable, at the field that references it, and nothing else about it', async () => {
    expect(await issuesOf('name: o\nsource: { use: generate }\nsinks:\n  - use: clickhouse\n    config:\n      table: t\n      url: "${env:NOPE_URL}"\n')).toEqual([
      '7:7 sinks[0].config.url: environment variable NOPE_URL is not set (referenced as ${env:NOPE_URL}); set it before running, e.g. `export NOPE_URL=...`',
    ])
  })

  it('a missing file secret names the file', async () => {
    expect(await issuesOf('name: o\nsource: { use: generate }\nsinks:\n  - { use: clickhouse, config: { table: t, password: "${file:missing.pass}" } }\n')).toEqual([
      `4:44 sinks[0].config.password: cannot read ${path.join(dir, 'missing.pass')} (referenced as \${file:missing.pass}): no such file; create the file or fix the path (it is relative to the pipeline file)`,
    ])
  })

  it('no message quotes a resolved secret', async () => {
    const issues = await rawIssues('name: o\nsource: { use: generate }\nsinks:\n  - { use: clickhouse, config: { table: "${file:ch.pass}", url: "${file:ch.pass}" } }\n')
    expect(issues.map((i) => i.message)).toEqual(['must be a string matching ^https?:// (got "${file:ch.pass}")'])
    expect(JSON.stringify(issues)).not.toContain('pa55word')
  })

  it('an explicit stage id used twice', async () => {
    expect(await issuesOf('name: o\nsource: { id: in, use: generate }\ntransforms:\n  - { id: in, use: map }\nsinks: [{ use: stdout }]\n')).toEqual([
      '4:7 transforms[0].id: stage id "in" is already used by the stage at source; give each stage a different id',
    ])
  })

  it('a duplicate window longer than the retention', async () => {
    expect(await issuesOf('name: o\nsource: { use: generate }\nsinks: [{ use: stdout }]\nretention: { maxAge: 1m }\n')).toEqual([
      '4:1 retention.duplicateWindow: must not be longer than retention.maxAge (2m > 1m): JetStream refuses such a stream',
    ])
  })

  it('where is only for sinks', async () => {
    expect(await issuesOf('name: o\nsource: { use: generate, where: "x > 1" }\nsinks: [{ use: stdout }]\n')).toEqual([
      '2:26 source.where: unknown property "where"; allowed: id, use, config',
    ])
  })
})
