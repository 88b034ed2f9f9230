import { describe, expect, it } from 'vitest'
import { ValidationError } from '../../core/errors.js'
import { parseConfigText } from '../../core/config/source-map.js'

const yaml = `name: orders
source: { use: http, config: { port: 8080 } }
transforms:
  - use: filter
    config:
      where: "value > 100"
sinks:
  - use: clickhouse
    config:
      table: 42
`

describe('parseConfigText', () => {
  it('returns the plain value', () => {
    const { value } = parseConfigText(yaml, 'p.yaml')
    expect(value).toEqual({
      name: 'orders',
      source: { use: 'http', config: { port: 8080 } },
      transforms: [{ use: 'filter', config: { where: 'value > 100' } }],
      sinks: [{ use: 'clickhouse', config: { table: 42 } }],
    })
  })

  it('locates keys, array items and flow mappings (1-based line and column)', () => {
    const { locate } = parseConfigText(yaml, 'p.yaml')
    expect(locate(['sinks', 0, 'config', 'table'])).toEqual({ line: 10, column: 7 })
    expect(locate(['transforms', 0])).toEqual({ line: 4, column: 5 })
    expect(locate(['source', 'config', 'port'])).toEqual({ line: 2, column: 32 })
    expect(locate([])).toEqual({ line: 1, column: 1 })
  })

  it('locates a path that is not written at its closest written ancestor', () => {
    const { locate } = parseConfigText(yaml, 'p.yaml')
    expect(locate(['sinks', 0, 'config', 'batch', 'rows'])).toEqual({ line: 9, column: 5 })
    expect(locate(['sinks', 3])).toEqual({ line: 7, column: 1 })
  })

  it('parses JSON files, tabs included, with positions', () => {
    const { value, locate } = parseConfigText('{\n\t"name": "x",\n\t"sinks": [\n\t\t{ "use": "stdout" }\n\t]\n}\n', 'p.json')
    expect(value).toEqual({ name: 'x', sinks: [{ use: 'stdout' }] })
    expect(locate(['sinks', 0, 'use'])).toEqual({ line: 4, column: 5 })
  })

  it('a YAML syntax error is a ValidationError with file, line and column', () => {
    let err: unknown
    try {
      parseConfigText('name: x\nsource:\n  use: a\n   bad: 1\n', 'broken.yaml')
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ValidationError)
    const issue = (err as ValidationError).issues[0]!
    expect(issue).toMatchObject({ file: 'broken.yaml', line: 3, column: 8 })
    expect(issue.message).toMatch(/^not valid YAML: /)
    expect((err as ValidationError).message).toContain('broken.yaml:3:8')
  })

  it('a repeated key is an error, not a silent last-one-wins', () => {
    expect(() => parseConfigText('name: a\nname: b\n', 'dup.yaml')).toThrow(/dup\.yaml:2:1: not valid YAML: Map keys must be unique/)
  })
})
