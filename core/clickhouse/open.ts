import { TributaryError } from '../errors.js'
import { homePaths } from '../home/paths.js'
import type { ClickHouse, ClickHouseConnectionOptions, InsertOptions, JsonObject, JsonPrimitive, TableSpec } from '../plugin-api.js'
import { openEmbedded, type EmbeddedHomeOptions } from './resolve.js'
import { openServer } from './server.js'

export type OpenClickHouseOptions = ClickHouseConnectionOptions & EmbeddedHomeOptions & { home: string }

/**
 * Opens ClickHouse: a server when `url` is set (the caller decides whether CLICKHOUSE_URL
 * counts; nothing here reads the environment), embedded chDB in the home otherwise.
 * Embedded handles are shared: chDB allows one data directory per process, so every caller in
 * this process gets a lease on one handle per home, and the last `close()` closes it.
 */
export async function openClickHouse(opts: OpenClickHouseOptions): Promise<ClickHouse> {
  if (opts.url !== undefined && opts.url !== '') return openServer(opts)
  const serverOnly = (['user', 'password', 'database', 'tls'] as const).filter((k) => opts[k] !== undefined)
  if (serverOnly.length > 0) {
    throw new TributaryError('E_CONFIG', `ClickHouse ${serverOnly.join(', ')} ${serverOnly.length === 1 ? 'is' : 'are'} set but no url: embedded ClickHouse takes none of them`, {
      hint: 'set the server url (or CLICKHOUSE_URL), or drop these settings to use embedded ClickHouse (qualify tables as db.table instead of `database`)',
    })
  }
  return leaseEmbedded(opts.home, opts)
}

interface Shared {
  handle: Promise<ClickHouse>
  refs: number
}
const shared = new Map<string, Shared>()
const closing = new Map<string, Promise<void>>()

async function leaseEmbedded(home: string, opts: EmbeddedHomeOptions): Promise<ClickHouse> {
  const key = homePaths(home).clickhouseData
  // A handle being closed still holds chDB; a new one must wait for it.
  while (!shared.has(key) && closing.has(key)) await closing.get(key)
  let entry = shared.get(key)
  if (!entry) {
    const created: Shared = { handle: openEmbedded(home, opts), refs: 0 }
    created.handle.catch(() => {
      if (shared.get(key) === created) shared.delete(key)
    })
    shared.set(key, created)
    entry = created
  }
  entry.refs++
  let ch: ClickHouse
  try {
    ch = await entry.handle
  } catch (err) {
    entry.refs--
    throw err
  }
  const e = entry
  return lease(ch, () => release(key, e, ch))
}

function release(key: string, entry: Shared, ch: ClickHouse): Promise<void> {
  if (--entry.refs > 0) return Promise.resolve()
  if (shared.get(key) === entry) shared.delete(key)
  const done = ch.close().finally(() => {
    if (closing.get(key) === done) closing.delete(key)
  })
  closing.set(key, done)
  return done
}

/** One caller's view of a shared handle: closing it only gives the lease back. */
function lease(ch: ClickHouse, release: () => Promise<void>): ClickHouse {
  let closed = false
  const open = (): ClickHouse => {
    if (closed) throw new TributaryError('E_CLICKHOUSE', 'this ClickHouse handle is closed', { hint: 'open it again with openClickHouse()' })
    return ch
  }
  return {
    get mode() {
      return ch.mode
    },
    async query<T extends JsonObject = JsonObject>(sql: string, params?: Record<string, JsonPrimitive>) {
      return open().query<T>(sql, params)
    },
    async command(sql: string, params?: Record<string, JsonPrimitive>) {
      return open().command(sql, params)
    },
    async insert(table: string, rows: readonly JsonObject[], o?: InsertOptions) {
      return open().insert(table, rows, o)
    },
    async version() {
      return open().version()
    },
    async ensureTable(spec: TableSpec) {
      return open().ensureTable(spec)
    },
    async capabilities(table?: string) {
      return open().capabilities(table)
    },
    async close() {
      if (closed) return
      closed = true
      await release()
    },
  }
}
