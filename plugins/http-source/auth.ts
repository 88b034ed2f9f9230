import { createHmac, timingSafeEqual } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'

export interface AuthConfig {
  type: 'none' | 'bearer' | 'hmac'
  token?: string
  secret?: string
  header: string
}

/** Constant-time comparison, so the time to refuse does not tell how much of a guess was right. */
function same(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/** Bearer auth is checked before the body is read: a stranger does not get to upload anything. */
export function bearerOk(auth: AuthConfig, headers: IncomingHttpHeaders): boolean {
  if (auth.type !== 'bearer') return true
  const m = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '')
  return m !== null && same(m[1]!.trim(), auth.token ?? '')
}

/** HMAC-SHA256 of the raw body, hex, in `auth.header`; a `sha256=` prefix (GitHub's style) is accepted. */
export function hmacOk(auth: AuthConfig, headers: IncomingHttpHeaders, body: Buffer): boolean {
  if (auth.type !== 'hmac') return true
  const given = headers[auth.header.toLowerCase()]
  const value = (Array.isArray(given) ? given[0] : given)?.trim().replace(/^sha256=/i, '').toLowerCase()
  if (!value) return false
  const expected = createHmac('sha256', auth.secret ?? '').update(body).digest('hex')
  return same(value, expected)
}
