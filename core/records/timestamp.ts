/**
 * Event times as records carry them. Re-exported by the public plugin API, so it imports nothing.
 */

// Date, optional time, optional zone. Without a zone a time is UTC (never the host's local time,
// which would make the same file give different windows on different machines).
const DATE_TIME = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i

/**
 * Milliseconds since the epoch from a JSON value: a finite number is milliseconds; a string is an
 * ISO 8601 date-time (`2026-03-01T10:00:00Z`, `2026-03-01 10:00:00.250`, `2026-03-01`), UTC when
 * it names no zone. Anything else gives undefined.
 */
export function parseTimestamp(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined
  if (typeof v !== 'string') return undefined
  const m = DATE_TIME.exec(v.trim())
  if (!m) return undefined
  const [, date, time, zone] = m
  let z = zone ?? 'Z'
  if (/^[+-]\d{2}$/.test(z)) z += ':00'
  else if (/^[+-]\d{4}$/.test(z)) z = `${z.slice(0, 3)}:${z.slice(3)}`
  const ms = Date.parse(`${date}T${time ?? '00:00'}${z.toUpperCase()}`)
  return Number.isNaN(ms) ? undefined : ms
}
