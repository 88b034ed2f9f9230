import { NotConnectedError, defineSource, isClickHouseUnavailable, parseDuration, sleep, type ClickHouse, type JsonObject, type JsonPrimitive, type JsonValue, type SourceItem } from '../../core/plugin-api.js'
import { CURSOR_FIELD, CURSOR_PLACEHOLDER, CURSOR_TYPE_FIELD, pollStatement, tieStatement, type Cursor, type ReadSpec } from './statements.js'

interface SqlPollConfig {
  table?: string
  columns?: string[]
  query?: string
  cursorColumn: string
  tieBreak: string[]
  from?: number | string
  interval: string
  batchSize: number
  once: boolean
  url?: string
  user?: string
  password?: string
  database?: string
}

/** Saved once every row up to `cursor` is in JetStream. */
interface Checkpoint {
  cursor?: Cursor
  /** Next offset: rows re-read after a crash come in the same order, so they get the same offsets. */
  next: number
}

export default defineSource<SqlPollConfig>({
  async open(ctx) {
    const cfg = ctx.config
    const spec = readSpec(cfg)
    const intervalMs = parseDuration(cfg.interval)
    const cp = asCheckpoint(ctx.checkpoint)
    let cursor: Cursor | undefined = cp?.cursor ?? (cfg.from === undefined ? undefined : { value: cfg.from })
    if (cursor === undefined && 'query' in spec.from && spec.from.query.includes(CURSOR_PLACEHOLDER)) {
      throw new Error(`the query says ${CURSOR_PLACEHOLDER} but there is no cursor yet: set \`from\`, the value to start after (e.g. 0 or '1970-01-01 00:00:00')`)
    }
    let next = cp?.next ?? 1
    let dueAt = 0
    const ch: ClickHouse = await ctx.clickhouse({ url: cfg.url, user: cfg.user, password: cfg.password, database: cfg.database })
    ctx.logger.info({ reads: cfg.table ?? 'query', cursorColumn: cfg.cursorColumn, after: cursor?.value, mode: ch.mode }, 'polling ClickHouse')

    const query = async (sql: string): Promise<JsonObject[]> => {
      try {
        return await ch.query(sql)
      } catch (err) {
        // Unreachable: retried with back-off. Anything else (no such table, bad SQL) will not heal.
        if (isClickHouseUnavailable(err)) throw new NotConnectedError((err as Error).message, { cause: err })
        throw err
      }
    }
    const wait = (ms: number): Promise<void> => sleep(Math.max(0, ms), ctx.signal)

    return {
      async read() {
        await wait(dueAt - Date.now())
        if (ctx.signal.aborted) return { items: [] }
        const started = Date.now()
        let rows = await query(pollStatement(spec, cursor, cfg.batchSize))
        const full = rows.length >= cfg.batchSize
        if (full) {
          // A LIMIT may cut a run of equal cursor values; `> cursor` would then skip its rest.
          // Hold the run back for the next poll, or read it whole when it fills the batch.
          const last = rows[rows.length - 1]![CURSOR_FIELD]
          let cut = rows.length
          while (cut > 0 && rows[cut - 1]![CURSOR_FIELD] === last) cut--
          if (cut > 0) rows = rows.slice(0, cut)
          else rows = await query(tieStatement(spec, { value: last as JsonPrimitive, type: cursorType(rows[0]!) }, cursor))
        }
        const items: SourceItem[] = new Array(rows.length)
        for (let i = 0; i < rows.length; i++) {
          const row = rows[i]!
          if (i === rows.length - 1) cursor = { value: row[CURSOR_FIELD] as JsonPrimitive, type: cursorType(row) }
          delete row[CURSOR_FIELD]
          delete row[CURSOR_TYPE_FIELD]
          items[i] = { offset: next++, value: row }
        }
        dueAt = full ? 0 : started + intervalMs
        ctx.logger.debug({ rows: rows.length, cursor: cursor?.value }, 'polled')
        const checkpoint: Checkpoint = cursor === undefined ? { next } : { cursor, next }
        return { items, checkpoint: checkpoint as unknown as JsonValue, done: cfg.once && !full }
      },
      close: () => ch.close(),
    }
  },
})

function readSpec(cfg: SqlPollConfig): ReadSpec {
  if ((cfg.table === undefined) === (cfg.query === undefined)) {
    throw new Error('give either `table` or `query` (exactly one of them)')
  }
  if (cfg.columns !== undefined && cfg.table === undefined) throw new Error('`columns` goes with `table`; with `query`, select the columns in the query')
  const from = cfg.table !== undefined ? { table: cfg.table, columns: cfg.columns } : { query: cfg.query! }
  return { from, cursorColumn: cfg.cursorColumn, tieBreak: cfg.tieBreak }
}

function cursorType(row: JsonObject): string | undefined {
  const t = row[CURSOR_TYPE_FIELD]
  return typeof t === 'string' ? t : undefined
}

function asCheckpoint(v: JsonValue | undefined): Checkpoint | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || typeof v.next !== 'number') return undefined
  const c = v.cursor
  if (typeof c !== 'object' || c === null || Array.isArray(c) || (typeof c.value !== 'number' && typeof c.value !== 'string')) return { next: v.next }
  return { next: v.next, cursor: { value: c.value, type: typeof c.type === 'string' ? c.type : undefined } }
}
