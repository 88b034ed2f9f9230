import { describe, expect, it } from 'vitest'
import { isNumericType, quoteString, sqlLiteral } from '../../core/clickhouse/literals.js'

describe('sqlLiteral (values spliced where 18.16 has no query parameters)', () => {
  it('writes finite numbers bare and refuses others', () => {
    expect(sqlLiteral(42)).toBe('42')
    expect(sqlLiteral(-1.5)).toBe('-1.5')
    expect(sqlLiteral(1e21)).toBe('1e+21')
    expect(() => sqlLiteral(Number.NaN)).toThrow(/finite/)
    expect(() => sqlLiteral(Number.POSITIVE_INFINITY)).toThrow(/finite/)
  })

  it('writes a numeric column value bare only when it is strictly a number', () => {
    expect(sqlLiteral('18446744073709551615', 'UInt64')).toBe('18446744073709551615')
    expect(sqlLiteral('-3.25e2', 'Nullable(Float64)')).toBe('-3.25e2')
    expect(sqlLiteral('12.50', 'Decimal(10, 2)')).toBe('12.50')
    for (const bad of ['1 OR 1=1', '1;DROP TABLE t', '0x10', '', ' 1', '1e', '--1', '1)']) {
      expect(() => sqlLiteral(bad, 'UInt64'), bad).toThrow(/is not a number/)
    }
  })

  it('quotes strings for other types, escaping quotes, backslashes and control characters', () => {
    expect(sqlLiteral('2024-01-01 00:00:00', 'DateTime')).toBe("'2024-01-01 00:00:00'")
    expect(sqlLiteral('42', 'String')).toBe("'42'")
    expect(sqlLiteral("it's")).toBe("'it\\'s'")
    expect(sqlLiteral('a\\')).toBe("'a\\\\'")
    expect(sqlLiteral("\\' OR 1=1 --")).toBe("'\\\\\\' OR 1=1 --'")
    expect(quoteString('a\nb\u0000c\u007f')).toBe("'a\\x0ab\\x00c\\x7f'")
  })

  it('a quoted literal has no unescaped quote inside, whatever the input', () => {
    for (const s of ["'", "''", "\\'", "a'b'c", "\\\\'", "'; DROP TABLE x; --", '\u0000\'']) {
      const lit = quoteString(s)
      const inner = lit.slice(1, -1)
      // Every quote inside is preceded by an odd number of backslashes.
      for (let i = 0; i < inner.length; i++) {
        if (inner[i] !== "'") continue
        let b = 0
        for (let j = i - 1; j >= 0 && inner[j] === '\\'; j--) b++
        expect(b % 2, `${JSON.stringify(s)} → ${lit}`).toBe(1)
      }
    }
  })

  it('null and booleans', () => {
    expect(sqlLiteral(null)).toBe('NULL')
    expect(sqlLiteral(true)).toBe('1')
    expect(sqlLiteral(false)).toBe('0')
  })

  it('knows numeric types through Nullable and LowCardinality', () => {
    for (const t of ['UInt8', 'Int64', 'UInt256', 'Float32', 'Decimal(18, 4)', 'Decimal64(4)', 'Nullable(UInt64)', 'LowCardinality(Nullable(Int32))']) expect(isNumericType(t), t).toBe(true)
    for (const t of ['DateTime', "DateTime64(3, 'UTC')", 'Date', 'String', 'UUID', 'Nullable(String)', 'Array(UInt8)']) expect(isNumericType(t), t).toBe(false)
  })
})
