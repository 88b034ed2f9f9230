/** What one HTTP attempt came to. */
export type Outcome = { kind: 'ok' } | { kind: 'reject'; reason: string } | { kind: 'retry'; reason: string; retryAfterMs?: number }

export interface Request {
  body: string
  key: string
}

export interface DeliverOptions {
  url: string
  method: string
  headers: Record<string, string>
  idempotencyHeader: string
  timeoutMs: number
}

/**
 * One attempt: 2xx is delivered; 408, 429, 5xx and network errors are worth another try (429 and
 * 503 say when, in Retry-After); any other status refuses the records for good (→ DLQ).
 */
export async function attempt(req: Request, o: DeliverOptions): Promise<Outcome> {
  const headers = new Headers({ 'content-type': 'application/json' })
  for (const [k, v] of Object.entries(o.headers)) headers.set(k, v)
  headers.set(o.idempotencyHeader, req.key)
  let res: Response
  try {
    res = await fetch(o.url, { method: o.method, headers, body: req.body, signal: AbortSignal.timeout(o.timeoutMs) })
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } }
    const cause = e.cause?.message ? `${e.cause.message}${e.cause.code ? ` (${e.cause.code})` : ''}` : e.message
    const why = e.name === 'TimeoutError' ? `no answer within ${o.timeoutMs} ms` : cause
    return { kind: 'retry', reason: `POST to ${o.url} failed: ${why}` }
  }
  // Read the body either way: it frees the connection for the next request.
  const text = await res.text().catch(() => '')
  if (res.ok) return { kind: 'ok' }
  const reason = `HTTP ${res.status} from ${o.url}${text ? `: ${text.slice(0, 200)}` : ''}`
  if (res.status === 408 || res.status === 429 || res.status >= 500) return { kind: 'retry', reason, retryAfterMs: retryAfter(res.headers.get('retry-after')) }
  return { kind: 'reject', reason }
}

/** Retry-After as seconds or an HTTP date; undefined when absent or unreadable. */
function retryAfter(v: string | null): number | undefined {
  if (!v) return undefined
  if (/^\d+$/.test(v.trim())) return Number(v) * 1000
  const t = Date.parse(v)
  return Number.isNaN(t) ? undefined : Math.max(0, t - Date.now())
}
