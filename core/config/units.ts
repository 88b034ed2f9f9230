/**
 * Durations and sizes as people write them in pipeline files and plugin configs.
 * This module is re-exported by the public plugin API (`tributary/plugin`), so it imports
 * nothing but the error classes: a plugin pays nothing for it.
 */
import { TributaryError } from '../errors.js'

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }
// One or more <number><unit> parts, Go style: `1h30m`, `1.5s`, `500ms`.
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g

// Binary multiples, as nats-server reads `1GB` in its own config: 1 KB = 1024 bytes.
const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }
const BYTES = /^(\d+(?:\.\d+)?)\s*(?:([kmgt])(?:i?b)?|(b))?$/i

export const DURATION_EXAMPLES = '500ms, 30s, 5m, 2h or 7d'
export const BYTES_EXAMPLES = '512KB, 64MB or 1GB'

/**
 * Milliseconds of a duration such as `500ms`, `1s`, `5m`, `2h`, `7d` or `1h30m`. A number is
 * milliseconds already; `"0"` is zero (for retention: unlimited). A unitless string other than
 * `"0"` is refused: `"30"` is too easily meant as seconds.
 */
export function parseDuration(input: string | number): number {
  const ms = durationMs(input)
  if (ms === undefined) {
    throw new TributaryError('E_CONFIG', `${JSON.stringify(input)} is not a duration`, { hint: `write a number and a unit, such as ${DURATION_EXAMPLES}` })
  }
  return ms
}

/** Bytes of a size such as `10KB`, `512MB`, `1GB` (1 KB = 1024 bytes) or a plain integer. */
export function parseBytes(input: string | number): number {
  const n = bytesCount(input)
  if (n === undefined) {
    throw new TributaryError('E_CONFIG', `${JSON.stringify(input)} is not a size`, { hint: `write an integer number of bytes or a size such as ${BYTES_EXAMPLES}` })
  }
  return n
}

/** `parseDuration` without the throw: undefined when the input is not a duration. */
export function durationMs(input: unknown): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? Math.round(input) : undefined
  if (typeof input !== 'string') return undefined
  const s = input.trim()
  if (s === '0') return 0
  if (!DURATION.test(s)) return undefined
  let total = 0
  for (const m of s.matchAll(DURATION_PART)) total += Number(m[1]) * DURATION_UNITS[m[2]!]!
  return Math.round(total)
}

/** `parseBytes` without the throw: undefined when the input is not a size. */
export function bytesCount(input: unknown): number | undefined {
  if (typeof input === 'number') return Number.isSafeInteger(input) && input >= 0 ? input : undefined
  if (typeof input !== 'string') return undefined
  const m = BYTES.exec(input.trim())
  if (!m) return undefined
  const unit = (m[2] ?? m[3] ?? '').toLowerCase()
  if ((unit === '' || unit === 'b') && m[1]!.includes('.')) return undefined // no fractional bytes
  const n = Math.floor(Number(m[1]) * BYTE_UNITS[unit]!)
  return Number.isSafeInteger(n) ? n : undefined
}
