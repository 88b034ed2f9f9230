import { createHash } from 'node:crypto'
import { defineSink, isClickHouseUnavailable, parseDuration, sleep, type ClickHouse, type ClickHouseConnectionOptions, type JsonObject, type PluginContext } from '../../core/plugin-api.js'
import { decideGuarantee } from './guarantee.js'
import { presentOrigins } from './origins.js'
import { insertIsolating } from './insert.js'
import { rowCoercer } from './coerce.js'

interface ClickHouseSinkConfig {
  table: string
  columns?: Record<string, string>
  orderBy?: string[]
  url?: string
  user?: string
  password?: string
  database?: string
  exactlyOnce: boolean
  originColumn: string
  dedupWindow: number
  evolve: 'none' | 'add'
  batch: { rows: number; bytes: number; maxWait: string }
}

/** How long a starting sink waits for an unreachable ClickHouse before giving up. */
const OPEN_WAIT_MS = 60_000

/**
 * A server that is down when the pipeline starts is waited for (as an outage mid-run is), so a
 * restart of ClickHouse and Tributary in either order works; a wrong url still fails, after a
 * minute of warnings that say so.
 */
async function openWaiting(ctx: PluginContext<ClickHouseSinkConfig>, opts: ClickHouseConnectionOptions): Promise<ClickHouse> {
  const deadline = Date.now() + OPEN_WAIT_MS
  for (let attempt = 1; ; attempt++) {
    try {
      return await ctx.clickhouse(opts)
    } catch (err) {
      if (!isClickHouseUnavailable(err) || Date.now() > deadline || ctx.signal.aborted) throw err
      ctx.logger.warn({ attempt, err: (err as Error).message }, 'ClickHouse unreachable; waiting for it')
      await sleep(Math.min(5000, 250 * 2 ** attempt), ctx.signal)
    }
  }
}

const quote = (name: string): string => name.split('.').map((p) => `\`${p}\``).join('.')

export default defineSink<ClickHouseSinkConfig>({
  async open(ctx) {
    const cfg = ctx.config
    const ch = await openWaiting(ctx, { url: cfg.url, user: cfg.user, password: cfg.password, database: cfg.database })
    let guarantee
    let coerce: ((row: JsonObject) => JsonObject) | undefined
    try {
      // Checked before the first insert: a mismatch is one clear error, not a DLQ flood.
      const caps = await ch.capabilities()
      const columns = await ch.ensureTable({
        table: cfg.table,
        columns: cfg.columns,
        orderBy: cfg.orderBy,
        internalColumns: cfg.exactlyOnce ? { [cfg.originColumn]: 'String' } : undefined,
        dedupWindow: caps.dedupWindows ? cfg.dedupWindow : undefined,
        evolve: cfg.evolve,
      })
      coerce = rowCoercer(columns)
      guarantee = decideGuarantee(cfg.table, columns, cfg.exactlyOnce ? cfg.originColumn : undefined, await ch.capabilities(cfg.table))
      ctx.logger.info({ table: cfg.table, mode: ch.mode, guarantee: guarantee.originColumn ? 'exactly-once' : guarantee.tokens ? 'exactly-once (whole batches)' : 'at-least-once' }, guarantee.statement)
    } catch (err) {
      await ch.close()
      throw err
    }
    const g = guarantee
    const table = quote(cfg.table)
    const originCol = g.originColumn ? quote(g.originColumn) : undefined
    const settingsFor = (ids: readonly string[]) => (part: number[]): Record<string, string | number> => {
      const s: Record<string, string | number> = { input_format_skip_unknown_fields: 1 }
      // Deterministic per batch content: the same batch sent again is dropped by the table's window.
      if (g.tokens) s.insert_deduplication_token = createHash('sha256').update(part.map((i) => ids[i]).join('\n')).digest('hex')
      return s
    }
    return {
      batching: { rows: cfg.batch.rows, bytes: cfg.batch.bytes, maxWaitMs: parseDuration(cfg.batch.maxWait) },
      async write(batch) {
        const { records, ids, json } = batch
        let present: Set<string> | undefined
        if (originCol && batch.redelivered) {
          present = await presentOrigins(ch, table, originCol, ids)
          if (present.size) ctx.logger.info({ table: cfg.table, skipped: present.size }, 'redelivered batch: skipped rows already in the table')
          else present = undefined
        }
        // One pass: the rows to insert, their batch indexes and their ids (the origin column's values).
        const refused: { index: number; reason: string }[] = []
        const rows: JsonObject[] = []
        const indexes: number[] = []
        const origins: string[] = []
        // The records' own texts go in as they are, while no row was changed on the way.
        let texts: string[] | undefined = json ? [] : undefined
        for (let i = 0; i < records.length; i++) {
          if (present?.has(ids[i]!)) continue
          let row = records[i]!
          if (coerce) {
            try {
              row = coerce(row)
            } catch (err) {
              refused.push({ index: i, reason: (err as Error).message })
              continue
            }
          }
          rows.push(row)
          indexes.push(i)
          origins.push(ids[i]!)
          if (texts && row === records[i]) texts.push(json![i]!)
          else texts = undefined
        }
        if (rows.length === 0) return refused.length ? { rejected: refused } : undefined
        // The origin goes in as an added column: no copy of each row to carry it.
        const column = g.originColumn ? { name: g.originColumn, values: origins } : undefined
        const rejected = [...refused, ...(await insertIsolating(ch, cfg.table, rows, indexes, settingsFor(ids), column, texts))]
        return rejected.length ? { rejected } : undefined
      },
      close: () => ch.close(),
    }
  },
})
