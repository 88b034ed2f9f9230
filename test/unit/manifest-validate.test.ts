import { describe, expect, it } from 'vitest'
import { ValidationError, type ValidationIssue } from '../../core/errors.js'
import { validateManifest } from '../../core/manifest/validate.js'
import { parseConfigText } from '../../core/config/source-map.js'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { schemaErrors } from '../../core/schema/ajv.js'
import { manifestSchema, pipelineSchema, pipelineTestSchema } from '../../core/schema/schemas.js'
import { builtinPluginsDir } from '../../core/plugins/registry.js'

const good = {
  name: 'geoip',
  version: '1.2.0',
  kind: 'transform',
  entry: 'dist/index.js',
  description: 'Adds a country from an IP address.',
  engine: '>=0.1.0 <2',
  config: { type: 'object', properties: { db: { type: 'string', format: 'path' } } },
  permissions: { network: ['api.example.com:443', '*.example.org', '[::1]:8080'], read: ['/var/geo'], env: ['GEO_TOKEN'], spawn: false },
}

function issues(json: unknown, file = 'plugin.json', locate?: Parameters<typeof validateManifest>[2]): ValidationIssue[] {
  try {
    validateManifest(json, file, locate)
  } catch (err) {
    if (err instanceof ValidationError) return err.issues
    throw err
  }
  throw new Error('expected the manifest to be refused')
}

describe('validateManifest', () => {
  it('accepts a valid manifest, scoped names included, and applies defaults', () => {
    const m = validateManifest(good, 'plugin.json')
    expect(m).toMatchObject({ name: 'geoip', kind: 'transform', stateful: false })
    expect(validateManifest({ ...good, name: '@acme/geo-ip' }, 'plugin.json').name).toBe('@acme/geo-ip')
    expect(good).not.toHaveProperty('stateful') // the input is not changed
  })

  it('reports every error, each with its JSON path and the file', () => {
    const bad = {
      ...good,
      name: 'GeoIP',
      version: 'one',
      kind: 'transfrom',
      entry: '../outside.js',
      engine: 'whenever',
      color: 'blue',
      permissions: { network: ['http://x.com'], env: ['GEO TOKEN'], spawn: 'yes' },
    }
    const got = issues(bad, '/plugins/geoip/plugin.json')
    expect(got.every((i) => i.file === '/plugins/geoip/plugin.json')).toBe(true)
    expect(got.map((i) => `${i.path}: ${i.message}${i.suggestion ? ` [${i.suggestion}]` : ''}`)).toEqual([
      'color: unknown property "color"; allowed: $schema, name, version, kind, entry, description, engine, config, input, output, stateful, partitionBy, instances, permissions',
      'name: must be lowercase letters, digits and -, starting with a letter (an npm scope such as @acme/ may come first) (got "GeoIP")',
      'version: must be a semantic version such as 1.2.3 (got "one")',
      'kind: must be one of "source", "transform", "sink" (got "transfrom") [transform]',
      'entry: must be a relative path to a .js, .mjs or .cjs file inside the plugin folder, e.g. index.js (got "../outside.js")',
      'engine: must be a semver range such as >=0.1.0 or ^1.2.0 (got "whenever")',
      'permissions.network[0]: must be a host with an optional port, such as api.example.com, *.example.com:443 or [::1]:8080 (got "http://x.com")',
      'permissions.env[0]: must be an environment variable name (letters, digits and _) (got "GEO TOKEN")',
      'permissions.spawn: must be boolean (got "yes")',
    ])
  })

  it('missing required fields are each named', () => {
    expect(issues({ name: 'x' }).map((i) => i.message)).toEqual(['version', 'kind', 'entry', 'description', 'engine', 'config'].map((k) => `missing required property "${k}"`))
  })

  it('config must be an object schema', () => {
    expect(issues({ ...good, config: { type: 'array' } }).map((i) => `${i.path}: ${i.message}`)).toEqual(['config.type: must be "object" (got "array")'])
  })

  it('a config that is not a valid JSON Schema is refused with paths into it', () => {
    const got = issues({ ...good, config: { type: 'object', properties: { port: { type: 'integr' } } } })
    expect(got.map((i) => [i.path, i.suggestion])).toEqual([['config.properties.port.type', 'integer']])
    expect(got[0]!.message).toMatch(/^must be one of .*"integer".* \(got "integr"\); `config` must be a valid JSON Schema \(2020-12\)$/)
  })

  it('a config schema that cannot be compiled is refused, naming why', () => {
    const got = issues({ ...good, config: { type: 'object', properties: { a: { $ref: '#/$defs/nowhere' } } } })
    expect(got).toHaveLength(1)
    expect(got[0]!.path).toBe('config')
    expect(got[0]!.message).toMatch(/^is not a JSON Schema that can be compiled: .*nowhere/)
  })

  it('issues carry line and column when the source positions are given', () => {
    const text = JSON.stringify({ ...good, kind: 'sinc' }, null, 2)
    const parsed = parseConfigText(text, 'plugin.json')
    const [issue] = issues(parsed.value, 'plugin.json', { locate: parsed.locate })
    expect(issue).toMatchObject({ path: 'kind', line: 4, column: 3, suggestion: 'sink' })
  })
})

describe('validateManifest: config schema dialect', () => {
  it('a config schema of another JSON Schema draft is refused with the URI to use', () => {
    const got = issues({ ...good, config: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object' } })
    expect(got.map((i) => `${i.path}: ${i.message}`)).toEqual(['config.$schema: must be "https://json-schema.org/draft/2020-12/schema" (got "http://json-schema.org/draft-07/schema#")'])
  })

  it('the 2020-12 URI is accepted', () => {
    expect(validateManifest({ ...good, config: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object' } }, 'plugin.json').name).toBe('geoip')
  })
})

// The ajv instance compiles without checking schemas against the meta-schema (start-up time):
// Tributary's own schemas and the built-in plugins' config schemas are held valid here.
describe('own schemas', () => {
  it('the pipeline, pipeline-test and manifest schemas and every built-in config schema are valid JSON Schema 2020-12', () => {
    const schemas: [string, object][] = [
      ['pipeline', pipelineSchema],
      ['pipeline-test', pipelineTestSchema],
      ['plugin-manifest', manifestSchema],
    ]
    const dir = builtinPluginsDir()
    for (const name of readdirSync(dir)) {
      const file = path.join(dir, name, 'plugin.json')
      if (existsSync(file)) schemas.push([name, (JSON.parse(readFileSync(file, 'utf8')) as { config: object }).config])
    }
    expect(schemas.length).toBeGreaterThan(10)
    for (const [name, schema] of schemas) expect({ name, errors: schemaErrors(schema) }).toEqual({ name, errors: [] })
  })

  it('a community config schema that is not valid JSON Schema is still refused with the meta-schema error', () => {
    const got = issues({ ...good, config: { type: 'object', properties: { n: { type: 'integr' } } } })
    expect(got.some((i) => /valid JSON Schema/.test(i.message))).toBe(true)
  })
})
