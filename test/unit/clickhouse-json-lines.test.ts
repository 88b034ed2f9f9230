import { describe, expect, it } from 'vitest'
import type { JsonObject } from '../../core/plugin-api.js'
import { jsonEachRow, withColumn } from '../../core/clickhouse/json-lines.js'

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

  it('withColumn copies rows with the field, leaving the rows as they were', () => {
    const rows: JsonObject[] = [{ a: 1 }, { o: 'r' }]
    expect(withColumn(rows, { name: 'o', values: ['x', 'y'] })).toEqual([{ a: 1, o: 'x' }, { o: 'y' }])
    expect(rows).toEqual([{ a: 1 }, { o: 'r' }])
  })
})
