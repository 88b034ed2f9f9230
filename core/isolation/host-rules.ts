/**
 * The `network` permission: which host:port an isolated plugin may connect to. Used twice: in the
 * child, to refuse early with a message that names the permission, and in the host's proxy, which
 * is what enforces it (the child runs in a network namespace whose only way out is that proxy).
 * A name rule covers that name only, not the addresses it resolves to; an IP must be declared as
 * an IP. Without a port, any port of the host is allowed.
 */
import { isIP } from 'node:net'
import type { HostRule } from './types.js'

export function parseHostRule(text: string): HostRule {
  let rest = text.trim()
  let port: number | undefined
  let host: string
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']')
    host = rest.slice(1, end)
    rest = rest.slice(end + 1)
    if (rest.startsWith(':')) port = Number(rest.slice(1))
  } else {
    const colon = rest.lastIndexOf(':')
    if (colon > 0 && isIP(rest) !== 6) {
      port = Number(rest.slice(colon + 1))
      host = rest.slice(0, colon)
    } else host = rest
  }
  const wildcard = host.startsWith('*.')
  return { host: (wildcard ? host.slice(2) : host).toLowerCase(), wildcard, ...(port !== undefined && Number.isInteger(port) ? { port } : {}), text }
}

/** The host of a connection attempt as the proxy compares it: lower case, IPv6 without brackets, no trailing dot. */
export function normalizeHost(host: string): string {
  const h = host.trim().toLowerCase().replace(/\.$/, '')
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h
}

/** The rule that allows `host:port`, if any. */
export function allowedBy(rules: readonly HostRule[], host: string, port: number): HostRule | undefined {
  const h = normalizeHost(host)
  return rules.find((r) => {
    if (r.port !== undefined && r.port !== port) return false
    if (!r.wildcard) return r.host === h
    // `*.example.com` covers names under it, never an IP literal.
    return isIP(h) === 0 && h.endsWith(`.${r.host}`)
  })
}

/** `host:port` as written in a permission (IPv6 in brackets). */
export function hostPort(host: string, port: number): string {
  const h = normalizeHost(host)
  return isIP(h) === 6 ? `[${h}]:${port}` : `${h}:${port}`
}
