import { describe, expect, it } from 'vitest'
import { rowCoercer } from '../../plugins/clickhouse/coerce.js'

describe('clickhouse sink: predictable coercion of JSON values', () => {
  const coerce = rowCoercer({ id: 'UInt64', ts: 'DateTime', maybe: 'Nullable(DateTime)', zoned: "DateTime('UTC')" })!

  it('turns ISO-8601 strings into epoch seconds for DateTime columns, leaving what ClickHouse reads as is', () => {
    expect(coerce({ id: 1, ts: '2026-11-01T10:00:00Z', maybe: '2026-11-01T12:00:00+02:00', zoned: '2026-11-01T10:00:00.250Z' })).toEqual({
      id: 1, ts: 1793527200, maybe: 1793527200, zoned: 1793527200,
    })
    expect(coerce({ id: 2, ts: '2026-11-01 10:00:00', maybe: null })).toEqual({ id: 2, ts: '2026-11-01 10:00:00', maybe: null })
    expect(coerce({ id: 3, ts: 1793527200 })).toEqual({ id: 3, ts: 1793527200 })
  })

  it('does not copy a row that needs nothing', () => {
    const row = { id: 4, ts: 1793527200 }
    expect(coerce(row)).toBe(row)
  })

  it('refuses a string that is no date, naming the column', () => {
    expect(() => coerce({ id: 5, ts: 'yesterday' })).toThrow(/column "ts" \(DateTime\): "yesterday" is not a date/)
  })

  it('needs no coercer for tables without DateTime columns', () => {
    expect(rowCoercer({ id: 'UInt64', name: 'String' })).toBeUndefined()
  })
})
