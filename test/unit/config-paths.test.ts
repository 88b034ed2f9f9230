import { homedir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { resolveConfigPaths } from '../../core/config/paths.js'

const base = path.resolve('/srv/pipelines')

describe('resolveConfigPaths', () => {
  it('makes `format: path` fields absolute against the base folder, leaving others alone', () => {
    const schema = {
      type: 'object',
      properties: {
        path: { type: 'string', format: 'path' },
        name: { type: 'string' },
        files: { type: 'array', items: { type: 'string', format: 'path' } },
        tls: { $ref: '#/$defs/tls' },
        byName: { type: 'object', additionalProperties: { type: 'string', format: 'path' } },
        either: { anyOf: [{ type: 'integer' }, { type: 'string', format: 'path' }] },
      },
      $defs: { tls: { type: 'object', properties: { ca: { type: 'string', format: 'path' } } } },
    }
    const input = { path: 'data/in.ndjson', name: 'data/x', files: ['a.txt', '/abs/b.txt'], tls: { ca: 'certs/ca.pem' }, byName: { k: 'k.txt' }, either: 'e.txt', home: '~/x' }
    expect(resolveConfigPaths(input, schema, base)).toEqual({
      path: path.join(base, 'data/in.ndjson'),
      name: 'data/x',
      files: [path.join(base, 'a.txt'), path.resolve('/abs/b.txt')],
      tls: { ca: path.join(base, 'certs/ca.pem') },
      byName: { k: path.join(base, 'k.txt') },
      either: path.join(base, 'e.txt'),
      home: '~/x',
    })
    expect(input.path).toBe('data/in.ndjson') // not mutated
  })

  it('expands ~/ to the home folder, as a shell would', () => {
    const schema = { type: 'object', properties: { p: { type: 'string', format: 'path' } } }
    expect(resolveConfigPaths({ p: '~/data.ndjson' }, schema, base)).toEqual({ p: path.join(homedir(), 'data.ndjson') })
  })

  it('survives a schema whose $ref points at itself', () => {
    const schema = { $ref: '#', type: 'object', properties: { p: { type: 'string', format: 'path' } } }
    expect(resolveConfigPaths({ p: 'x' }, schema, base)).toEqual({ p: path.join(base, 'x') })
  })
})
