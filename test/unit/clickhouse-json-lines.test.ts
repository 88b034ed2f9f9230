import { describe, expect, it } from 'vitest'
import type { JsonObject } from '../../core/plugin-api.js'
import { jsonEachRow } from '../../core/clickhouse/json-lines.js'

/** What the sink sent before the column was spliced into the text: a copy of each row with the field. */
function copied(rows: JsonObject[], name: string, values: string[]): string {
  return rows.map((r, i) => JSON.stringify({ ...r, [name]: values[i] }) + '\n').join('')
}

const nullProto = Object.assign(Object.create(null) as JsonObject, { a: 1 })

describe('jsonEachRow', () => {
  it('is one JSON line per row without an added column', () => {
    expect(jsonEachRow([{ a: 1 }, { b: 'x' }])).toBe('{"a":1}\n{"b":"x"}\n')
    expect(jsonEachRow([])).toBe('')
  })

  it('adds the column exactly as copying each row with it did, whatever the row', () => {
    const rows: JsonObject[] = [
      { id: 1, name: 'a', value: 1.5, nested: { x: [1, null, 'y'] } },
      {},
      { only: undefined as unknown as null },
      { keep: 1, gone: undefined as unknown as null },
      // the record has the column itself: the added value replaces it, in its place
      { _trib_origin: 'from the record', z: 2 },
      nullProto,
      { text: 'quote " backslash \\ newline \n é 🙂' },
    ]
    const values = rows.map((_, i) => `p:file:0:${i}`)
    values[6] = 'odd "id"\n é'
    expect(jsonEachRow(rows, { name: '_trib_origin', values })).toBe(copied(rows, '_trib_origin', values))
    expect(jsonEachRow(rows, { name: 'needs "quoting"', values })).toBe(copied(rows, 'needs "quoting"', values))
  })

  it('sends the rows\' own texts when given (trimmed), and serialises a row again only when its text spans lines', () => {
    const texts = ['  {"id": 1, "big": 12345678901234567890}\n', '{ }', '{\n"id": 3\n}', '{"_trib_origin":"theirs","id":4}']
    const rows = texts.map((t) => JSON.parse(t) as JsonObject)
    const values = ['p:s:0:1', 'p:s:0:2', 'p:s:0:3', 'p:s:0:4']
    // The text keeps what a parse would round (the 64-bit id): ClickHouse gets it exact.
    expect(jsonEachRow(rows, undefined, texts)).toBe('{"id": 1, "big": 12345678901234567890}\n{ }\n{"id":3}\n{"_trib_origin":"theirs","id":4}\n')
    expect(jsonEachRow(rows, { name: '_trib_origin', values }, texts)).toBe(
      '{"id": 1, "big": 12345678901234567890,"_trib_origin":"p:s:0:1"}\n{"_trib_origin":"p:s:0:2"}\n{"id":3,"_trib_origin":"p:s:0:3"}\n{"_trib_origin":"p:s:0:4","id":4}\n',
    )
    // Texts that do not line up with the rows are not used.
    expect(jsonEachRow(rows, undefined, texts.slice(1))).toBe(rows.map((r) => JSON.stringify(r) + '\n').join(''))
  })
})
