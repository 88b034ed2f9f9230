import type { ClickHouse, ClickHouseCapabilities, InsertOptions, JsonObject, JsonPrimitive, TableSpec } from '../plugin-api.js'
import { ensureTable } from './table.js'
import { capabilitiesOf } from './capabilities.js'

/**
 * What every ClickHouse handle (embedded, server, proxy, home) derives from its own
 * query/command: the table check and feature detection, written once.
 */
export abstract class ClickHouseHandle implements ClickHouse {
  abstract readonly mode: ClickHouse['mode']
  abstract query<T extends JsonObject = JsonObject>(sql: string, params?: Record<string, JsonPrimitive>): Promise<T[]>
  abstract command(sql: string, params?: Record<string, JsonPrimitive>): Promise<void>
  abstract insert(table: string, rows: readonly JsonObject[], opts?: InsertOptions): Promise<void>
  abstract version(): Promise<string>
  abstract close(): Promise<void>

  ensureTable(spec: TableSpec): Promise<Record<string, string>> {
    return ensureTable(this, spec)
  }

  capabilities(table?: string): Promise<ClickHouseCapabilities> {
    return capabilitiesOf(this, table)
  }
}
