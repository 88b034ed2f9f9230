import { defineSink, parseDuration } from '../../core/plugin-api.js'

interface ClickHouseSinkConfig {
  table: string
  columns?: Record<string, string>
  orderBy?: string[]
  url?: string
  user?: string
  password?: string
  database?: string
  batch: { rows: number; bytes: number; maxWait: string }
}

export default defineSink<ClickHouseSinkConfig>({
  async open(ctx) {
    const cfg = ctx.config
    const ch = await ctx.clickhouse({ url: cfg.url, user: cfg.user, password: cfg.password, database: cfg.database })
    try {
      // Checked before the first insert: a mismatch is one clear error, not a DLQ flood.
      const columns = await ch.ensureTable({ table: cfg.table, columns: cfg.columns, orderBy: cfg.orderBy })
      ctx.logger.info({ table: cfg.table, mode: ch.mode, columns: Object.keys(columns).length }, 'clickhouse sink ready')
    } catch (err) {
      await ch.close()
      throw err
    }
    return {
      batching: { rows: cfg.batch.rows, bytes: cfg.batch.bytes, maxWaitMs: parseDuration(cfg.batch.maxWait) },
      async write(batch) {
        // Fields that are not columns are skipped rather than failing the batch.
        await ch.insert(cfg.table, batch.records, { settings: { input_format_skip_unknown_fields: 1 } })
      },
      close: () => ch.close(),
    }
  },
})
