import type { ClickHouse } from '../plugin-api.js'
import { parseTableName, quoteTable } from '../clickhouse/identifiers.js'

/**
 * Exchanges two tables' contents by name, atomically where the server can (`EXCHANGE TABLES`,
 * Atomic databases); elsewhere (18.16) with one three-way `RENAME` statement.
 */
export async function swapTables(ch: ClickHouse, a: string, b: string, scratchSuffix: string): Promise<'exchange' | 'rename'> {
  const caps = await ch.capabilities()
  if (caps.exchangeTables) {
    await ch.command(`EXCHANGE TABLES ${quoteTable(a)} AND ${quoteTable(b)}`)
    return 'exchange'
  }
  const ta = parseTableName(a)
  const scratch = quoteTable({ database: ta.database, table: `${ta.table}__swap_${scratchSuffix}` })
  await ch.command(`RENAME TABLE ${quoteTable(a)} TO ${scratch}, ${quoteTable(b)} TO ${quoteTable(a)}, ${scratch} TO ${quoteTable(b)}`)
  return 'rename'
}
