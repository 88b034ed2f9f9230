import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

const digest = (s: string): Buffer => createHash('sha256').update(s).digest()

/**
 * Checks a client's bearer token against the configured ones: the `Authorization: Bearer` header,
 * or `?token=` where a browser cannot set headers (EventSource, WebSocket). Every token is compared
 * in constant time (as digests, so lengths leak nothing). Returns the team, or undefined.
 */
export function authenticator(teams: Map<string, string>): (req: IncomingMessage, url: URL) => string | undefined {
  const known = [...teams].map(([token, team]) => ({ d: digest(token), team }))
  return (req, url) => {
    const header = /^Bearer[ \t]+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1]
    const token = header ?? url.searchParams.get('token') ?? undefined
    if (!token) return undefined
    const d = digest(token)
    let team: string | undefined
    for (const k of known) if (timingSafeEqual(k.d, d)) team = k.team
    return team
  }
}
