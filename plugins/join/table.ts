import { Kvm, KvWatchInclude } from '@nats-io/kv'
import type { NatsConnection } from '@nats-io/nats-core'
import { tableBucket, type JsonObject, type Logger } from '../../core/plugin-api.js'

export interface LookupTable {
  get(key: string): JsonObject | undefined
  readonly size: number
  close(): void
}

/**
 * A lookup table held in memory: loaded from its KV bucket at open, then kept current by a KV
 * watch, so a lookup is a Map read on the hot path. The bucket is created empty when no `table`
 * sink has written it yet (lookups then miss until one does).
 */
export async function openLookupTable(nc: NatsConnection, name: string, logger: Logger, opts: { loadTimeoutMs?: number } = {}): Promise<LookupTable> {
  const kv = await new Kvm(nc).create(tableBucket(name), { history: 1 })
  const rows = new Map<string, JsonObject>()
  const status = await kv.status()
  let markReady!: () => void
  const ready = new Promise<void>((r) => (markReady = r))
  if (status.values === 0) {
    logger.warn({ table: name }, 'the lookup table is empty: every lookup misses until a `table` sink writes it')
    markReady()
  }
  const iter = await kv.watch({ include: KvWatchInclude.LastValue })
  void (async () => {
    for await (const e of iter) {
      if (e.operation === 'PUT') {
        try {
          rows.set(e.key, e.json<JsonObject>())
        } catch {
          logger.warn({ table: name, key: e.key }, 'a lookup table row is not JSON; ignored')
        }
      } else rows.delete(e.key)
      // The initial values end with the one that had nothing pending after it.
      if (!e.isUpdate && e.delta === 0) markReady()
      if (e.isUpdate) markReady()
    }
  })().catch((err: unknown) => logger.warn({ table: name, err: (err as Error).message }, 'lookup table watch ended'))
  const timeout = opts.loadTimeoutMs ?? 60_000
  let timer: NodeJS.Timeout | undefined
  await Promise.race([ready, new Promise<void>((_, reject) => (timer = setTimeout(() => reject(new Error(`loading the lookup table "${name}" took over ${timeout} ms`)), timeout)))]).finally(() => clearTimeout(timer))
  logger.info({ table: name, rows: rows.size }, 'lookup table loaded')
  return {
    get: (key) => rows.get(key),
    get size() {
      return rows.size
    },
    close: () => iter.stop(),
  }
}
