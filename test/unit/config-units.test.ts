import { describe, expect, it } from 'vitest'
import { TributaryError } from '../../core/errors.js'
import { bytesCount, durationMs, parseBytes, parseDuration } from '../../core/config/units.js'

describe('parseDuration', () => {
  it('reads units, compound durations, "0" and numbers (ms)', () => {
    expect(parseDuration('500ms')).toBe(500)
    expect(parseDuration('1s')).toBe(1_000)
    expect(parseDuration('5m')).toBe(300_000)
    expect(parseDuration('2h')).toBe(7_200_000)
    expect(parseDuration('7d')).toBe(604_800_000)
    expect(parseDuration('1h30m')).toBe(5_400_000)
    expect(parseDuration('1.5s')).toBe(1_500)
    expect(parseDuration('0')).toBe(0)
    expect(parseDuration(250)).toBe(250)
  })

  it('refuses unitless strings, unknown units and negatives with an actionable error', () => {
    for (const bad of ['30', '5x', '-1s', '', 'ms', '1 s', -5]) expect(durationMs(bad)).toBeUndefined()
    const err = (() => {
      try {
        parseDuration('5x')
      } catch (e) {
        return e as TributaryError
      }
    })()
    expect(err).toBeInstanceOf(TributaryError)
    expect(err?.code).toBe('E_CONFIG')
    expect(err?.message).toBe('"5x" is not a duration')
    expect(err?.hint).toMatch(/500ms, 30s, 5m, 2h or 7d/)
  })
})

describe('parseBytes', () => {
  it('reads sizes in binary multiples and plain integers', () => {
    expect(parseBytes('10KB')).toBe(10 * 1024)
    expect(parseBytes('512MB')).toBe(512 * 1024 ** 2)
    expect(parseBytes('1GB')).toBe(1024 ** 3)
    expect(parseBytes('1GiB')).toBe(1024 ** 3)
    expect(parseBytes('1g')).toBe(1024 ** 3)
    expect(parseBytes('1.5KB')).toBe(1536)
    expect(parseBytes('100B')).toBe(100)
    expect(parseBytes('4096')).toBe(4096)
    expect(parseBytes(1024)).toBe(1024)
  })

  it('refuses what is not a size', () => {
    for (const bad of ['1XB', 'GB', '1.5', '-1KB', 1.5, -1]) expect(bytesCount(bad)).toBeUndefined()
    expect(() => parseBytes('lots')).toThrow('"lots" is not a size')
  })
})
