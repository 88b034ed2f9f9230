import { TributaryError } from '../errors.js'
import { durationMs } from '../config/units.js'

/**
 * `--since`: an ISO 8601 time (`2024-05-01T12:00:00Z`, `2024-05-01`) or a duration back from
 * `now` (`90m`, `2h`, `7d`).
 */
export function parseSince(text: string, now = Date.now()): Date {
  const t = text.trim()
  const ago = /^\d/.test(t) && !/^\d{4}-/.test(t) ? durationMs(t) : undefined
  if (ago !== undefined) return new Date(now - ago)
  const ms = /^\d{4}-\d{2}-\d{2}/.test(t) ? Date.parse(t) : Number.NaN
  if (Number.isNaN(ms)) {
    throw new TributaryError('E_USAGE', `--since ${JSON.stringify(text)} is neither a time nor a duration`, { hint: 'give an ISO time such as 2024-05-01T12:00:00Z, or a duration back from now such as 2h or 7d' })
  }
  return new Date(ms)
}
