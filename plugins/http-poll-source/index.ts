import { createHash } from 'node:crypto'
import { NotConnectedError, defineSource, parseDuration, sleep, type CompiledExpression, type JsonObject, type JsonValue, type SourceItem } from '../../core/plugin-api.js'
import { describeUrl, fetchJson } from './fetch-json.js'
import { recordsAt, valueAt } from './json-path.js'
import { KeyJournal } from './key-journal.js'

interface HttpPollConfig {
  url: string
  method: 'GET' | 'POST'
  body?: JsonValue
  headers: Record<string, string>
  interval: string
  timeout: string
  recordsAt: string
  dedupeBy?: string
  dedupeWindow: number
  cursor?: { field: string; param?: string; initial?: string | number }
  once: boolean
}

/** Saved once every record before it is in JetStream: where the next run resumes. */
interface Checkpoint {
  /** Next offset to hand out (offsets only grow, across restarts too). */
  next: number
  cursor?: string
}

/** ctx.state key of the journal of emitted keys, written before each batch is handed over. */
const JOURNAL_KEY = 'journal'
const MAX_KEY_LENGTH = 64

export default defineSource<HttpPollConfig>({
  async open(ctx) {
    const cfg = ctx.config
    const url = new URL(cfg.url)
    const intervalMs = parseDuration(cfg.interval)
    const timeoutMs = parseDuration(cfg.timeout)
    const keyExpr: CompiledExpression | undefined = cfg.dedupeBy === undefined ? undefined : ctx.expressions.compile(cfg.dedupeBy)
    const cursorParam = cfg.cursor ? (cfg.cursor.param ?? cfg.cursor.field.split('.').pop()!) : undefined

    const cp = asCheckpoint(ctx.checkpoint)
    const saved = (await ctx.state.get(JOURNAL_KEY)) as { next?: number; keys?: JsonValue } | undefined
    const journal = new KeyJournal(saved?.keys, cfg.dedupeWindow, keyExpr !== undefined)
    // The journal is written before a batch goes out, the checkpoint after: the larger wins.
    let next = Math.max(cp?.next ?? 1, typeof saved?.next === 'number' ? saved.next : 1)
    let cursor: string | undefined = cp?.cursor ?? (cfg.cursor?.initial === undefined ? undefined : String(cfg.cursor.initial))
    let savedNext = saved?.next
    let dueAt = 0
    let warnedMissing = false
    ctx.logger.info({ url: describeUrl(url), every: cfg.interval, cursor, resumeAt: next }, 'polling')

    const wait = (ms: number): Promise<void> => sleep(Math.max(0, ms), ctx.signal)

    /** The key of a record, or why it has none; a record that is not an object is keyed by its text. */
    const keyOf = (value: JsonValue, text: string, occurrence: number): { key: string; error?: string } => {
      const hashed = (): string => `#${hash(text)}${occurrence > 0 ? `:${occurrence}` : ''}`
      if (!keyExpr || typeof value !== 'object' || value === null || Array.isArray(value)) return { key: hashed() }
      let k: JsonValue
      try {
        k = keyExpr.evaluate(value)
      } catch (err) {
        return { key: hashed(), error: `dedupeBy: ${(err as Error).message}` }
      }
      if (k === null) return { key: hashed(), error: `dedupeBy \`${keyExpr.source}\` gave null` }
      const s = typeof k === 'string' ? k : JSON.stringify(k)
      return { key: s.length > MAX_KEY_LENGTH ? `#${hash(s)}` : s }
    }

    return {
      async read() {
        await wait(dueAt - Date.now())
        if (ctx.signal.aborted) return { items: [] }
        const started = Date.now()
        const target = new URL(url)
        if (cursorParam !== undefined && cursor !== undefined) target.searchParams.set(cursorParam, cursor)
        const body = await fetchJson({ url: target, method: cfg.method, headers: cfg.headers, body: cfg.body, timeoutMs, signal: ctx.signal })
        const found = recordsAt(body, cfg.recordsAt)
        if ('error' in found) throw new NotConnectedError(`${cfg.method} ${describeUrl(url)}: ${found.error}`)
        if (found.missing && !warnedMissing) ctx.logger.warn({ url: describeUrl(url), recordsAt: cfg.recordsAt }, 'the response has nothing at `recordsAt`: no records')
        warnedMissing = found.missing

        const items: SourceItem[] = []
        const emitted: [string, number][] = []
        const occurrences = new Map<string, number>()
        let lastCursor: string | undefined
        for (const value of found.records) {
          const text = JSON.stringify(value)
          // Without dedupeBy, identical records in one response are distinct records.
          const occurrence = keyExpr ? 0 : (occurrences.get(text) ?? 0)
          if (!keyExpr) occurrences.set(text, occurrence + 1)
          const isObject = typeof value === 'object' && value !== null && !Array.isArray(value)
          if (isObject && cfg.cursor) {
            const c = valueAt(value, cfg.cursor.field)
            if (c !== undefined && c !== null) lastCursor = typeof c === 'string' ? c : JSON.stringify(c)
          }
          const { key, error } = keyOf(value, text, occurrence)
          const offset = journal.admit(key, () => next++)
          if (offset === undefined) continue
          emitted.push([key, offset])
          if (!isObject) items.push({ offset, error: 'a record must be a JSON object', raw: text })
          else if (error !== undefined) items.push({ offset, error, raw: text })
          else items.push({ offset, value: value as JsonObject })
        }
        const advanced = lastCursor !== undefined && lastCursor !== cursor
        if (advanced) cursor = lastCursor
        journal.trim()
        // Before the batch goes out: a crash after it must not reuse these offsets for other records.
        if (journal.changed || savedNext !== next) {
          await ctx.state.put(JOURNAL_KEY, { next, keys: journal.save() })
          savedNext = next
        }

        // While the cursor moves there may be a next page: ask for it at once.
        const caughtUp = !cfg.cursor || !advanced
        dueAt = caughtUp ? started + intervalMs : 0
        ctx.logger.debug({ records: found.records.length, emitted: items.length, skipped: found.records.length - items.length, cursor }, 'polled')
        const checkpoint: Checkpoint = cursor === undefined ? { next } : { next, cursor }
        return {
          items,
          checkpoint: checkpoint as unknown as JsonValue,
          done: cfg.once && caughtUp,
          settled: (r) => {
            if (r.ok) journal.confirm(emitted)
          },
        }
      },
      // The last batch's confirmation would otherwise wait for a next poll that a `once` run,
      // or a stopping one, never makes: its keys would be emitted again next run.
      async close() {
        if (journal.changed) await ctx.state.put(JOURNAL_KEY, { next, keys: journal.save() })
      },
    }
  },
})

function hash(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 22)
}

function asCheckpoint(v: JsonValue | undefined): Checkpoint | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || typeof v.next !== 'number') return undefined
  return { next: v.next, cursor: typeof v.cursor === 'string' ? v.cursor : undefined }
}
