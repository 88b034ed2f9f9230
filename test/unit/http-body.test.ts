import { describe, expect, it } from 'vitest'
import { BodyError, parseBody } from '../../plugins/http-source/body.js'

describe('http source bodies', () => {
  it('reads one object, an array of objects, or NDJSON', () => {
    expect(parseBody('{"a":1}')).toEqual([{ value: { a: 1 } }])
    expect(parseBody('[{"a":1},{"a":2}]')).toEqual([{ value: { a: 1 } }, { value: { a: 2 } }])
    expect(parseBody('{"a":1}\r\n\n{"a":2}\n')).toEqual([{ value: { a: 1 } }, { value: { a: 2 } }])
  })

  it('turns each malformed part into an error entry, keeping the good ones', () => {
    expect(parseBody('[{"a":1},2,"x"]')).toEqual([{ value: { a: 1 } }, { error: 'element 1: a record must be a JSON object', raw: '2' }, { error: 'element 2: a record must be a JSON object', raw: '"x"' }])
    const nd = parseBody('{"a":1}\n{bad\n[1]')
    expect(nd[0]).toEqual({ value: { a: 1 } })
    expect(nd[1]).toMatchObject({ error: expect.stringMatching(/^line 2: not valid JSON/), raw: '{bad' })
    expect(nd[2]).toEqual({ error: 'line 3: a record must be a JSON object', raw: '[1]' })
  })

  it('refuses empty bodies and lone JSON scalars as a whole', () => {
    expect(() => parseBody('  ')).toThrow(BodyError)
    expect(() => parseBody('42')).toThrow(BodyError)
    expect(() => parseBody('"s"')).toThrow(BodyError)
  })
})
