import { NotConnectedError, type JsonValue } from '../../core/plugin-api.js'

export interface PollRequest {
  url: URL
  method: 'GET' | 'POST'
  headers: Record<string, string>
  body?: JsonValue
  timeoutMs: number
  signal: AbortSignal
}

/** The url without credentials and query (which may carry API keys), for messages and logs. */
export function describeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`
}

/**
 * One poll. Every way it can fail — network, timeout, a non-2xx status, a body that is not
 * JSON — is a NotConnectedError: the runtime logs it and retries with back-off, so an API
 * outage never stops the pipeline.
 */
export async function fetchJson(req: PollRequest): Promise<JsonValue> {
  const what = `${req.method} ${describeUrl(req.url)}`
  const headers: Record<string, string> = { accept: 'application/json', ...req.headers }
  let body: string | undefined
  if (req.method === 'POST' && req.body !== undefined) {
    if (typeof req.body === 'string') body = req.body
    else {
      body = JSON.stringify(req.body)
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json'
    }
  }
  const signal = AbortSignal.any([req.signal, AbortSignal.timeout(req.timeoutMs)])
  let text: string
  try {
    const res = await fetch(req.url, { method: req.method, headers, body, signal })
    text = await res.text()
    if (!res.ok) throw new NotConnectedError(`${what} answered ${res.status} ${res.statusText}${text ? `: ${oneLine(text)}` : ''}`)
  } catch (err) {
    if (err instanceof NotConnectedError) throw err
    throw new NotConnectedError(`${what} failed: ${reason(err, req.timeoutMs)}`, { cause: err })
  }
  try {
    return JSON.parse(text) as JsonValue
  } catch (err) {
    throw new NotConnectedError(`${what} answered a body that is not JSON (${(err as Error).message}): ${oneLine(text)}`)
  }
}

function oneLine(s: string): string {
  const t = s.replace(/\s+/g, ' ').trim()
  return t.length > 200 ? `${t.slice(0, 200)}…` : t
}

/** undici hides the reason in `cause` ("fetch failed" → ECONNREFUSED 127.0.0.1:8080). */
function reason(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } }
  if (e.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`
  if (e.name === 'AbortError') return 'aborted'
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err)
}
