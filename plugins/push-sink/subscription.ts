import type { CompiledExpression, ExpressionCompiler } from '../../core/plugin-api.js'

export interface Subscription {
  filter?: CompiledExpression
  /** The client has every record up to this position (Last-Event-ID); undefined: live from now on. */
  after?: number
}

/** Longest `filter` accepted: it runs on every record for this client. */
const MAX_FILTER = 2000
/** Most records a new client may ask to see from before it connected (`last`). */
const MAX_LAST = 10_000

/**
 * What a client asks for: `filter` (a CEL expression), where to resume (`Last-Event-ID` header,
 * or `lastEventId` where it cannot send one), or `last=N` records from before it connected.
 * Returns a sentence for a 400 when the request cannot be served.
 */
export function parseSubscription(url: URL, lastEventIdHeader: string | undefined, liveSeq: number, expressions: ExpressionCompiler): Subscription | { error: string } {
  const out: Subscription = {}
  const filter = url.searchParams.get('filter')
  if (filter !== null && filter.trim() !== '') {
    if (filter.length > MAX_FILTER) return { error: `filter: longer than ${MAX_FILTER} characters` }
    try {
      out.filter = expressions.compile(filter)
    } catch (err) {
      return { error: `filter: ${(err as Error).message}` }
    }
  }
  const resume = lastEventIdHeader ?? url.searchParams.get('lastEventId') ?? undefined
  if (resume !== undefined && resume !== '') {
    if (!/^\d{1,15}$/.test(resume)) return { error: `Last-Event-ID: ${JSON.stringify(resume.slice(0, 40))} is not an event id of this channel (a record position, such as 42)` }
    out.after = Number(resume)
    return out
  }
  const last = url.searchParams.get('last')
  if (last !== null) {
    if (!/^\d{1,6}$/.test(last) || Number(last) > MAX_LAST) return { error: `last: ${JSON.stringify(last.slice(0, 40))} is not a number of records from 0 to ${MAX_LAST}` }
    out.after = Math.max(0, liveSeq - Number(last))
  }
  return out
}
