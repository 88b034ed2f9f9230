import type { ClickHouseCapabilities } from '../../core/plugin-api.js'

export interface Guarantee {
  /** Column holding each row's origin (record id): redelivered batches skip ids already there. */
  originColumn?: string
  /** Send a deterministic insert_deduplication_token (the table has a dedup window). */
  tokens: boolean
  /** One sentence for the log: which guarantee holds for this table, and why. */
  statement: string
}

/** Decides, from what the table and server really have, what this sink can promise. */
export function decideGuarantee(table: string, columns: Record<string, string>, originColumn: string | undefined, caps: ClickHouseCapabilities): Guarantee {
  const origin = originColumn !== undefined && originColumn in columns ? originColumn : undefined
  const tokens = caps.dedupTokens && caps.tableDedupWindow > 0
  if (origin) {
    return {
      originColumn: origin,
      tokens,
      statement: `exactly-once into ${table}: a redelivered batch first skips the rows whose ${origin} is already in the table${tokens ? `, and every insert carries a deduplication token (window ${caps.tableDedupWindow})` : ''}`,
    }
  }
  if (tokens) {
    return {
      tokens,
      statement: `exactly-once into ${table} for batches re-sent whole (deduplication token, window ${caps.tableDedupWindow}); a batch re-formed differently after a crash can repeat rows: add a ${originColumn ?? '_trib_origin'} String column for full protection`,
    }
  }
  return {
    tokens: false,
    statement: `at-least-once into ${table}: the table has no ${originColumn ?? 'origin'} column${caps.dedupTokens ? ' and no deduplication window' : ` and ClickHouse ${caps.version} has no deduplication tokens`}, so a redelivered batch can repeat rows`,
  }
}
