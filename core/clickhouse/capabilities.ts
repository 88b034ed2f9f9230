import type { ClickHouse, ClickHouseCapabilities } from '../plugin-api.js'
import { features } from './features.js'

/** The plugin-facing summary of feature detection (core/clickhouse/features.ts). */
export async function capabilitiesOf(ch: ClickHouse, table?: string): Promise<ClickHouseCapabilities> {
  const f = features(ch)
  const [version, dedupTokens, dedupWindows, exchangeTables, tableDedupWindow] = await Promise.all([
    f.version(),
    f.supportsDedupToken(),
    f.supportsDedupWindow(),
    f.supportsExchangeTables(),
    table === undefined ? Promise.resolve(0) : f.tableDedupWindow(table),
  ])
  return { version, dedupTokens, dedupWindows, exchangeTables, tableDedupWindow }
}
