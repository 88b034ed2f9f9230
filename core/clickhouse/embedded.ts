import fs from 'node:fs/promises'
import path from 'node:path'
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client'
import { TributaryError, errorMessage } from '../errors.js'
import type { ClickHouse, InsertOptions, JsonObject, JsonPrimitive } from '../plugin-api.js'
import { ClickHouseFailure, toClickHouseFailure } from './errors.js'
import { formatTableName, parseTableName } from './identifiers.js'
import { normalizeRows, type ColumnMeta } from './rows.js'
import { jsonEachRow } from './json-lines.js'
import { refuseSessionSet, trimStatement } from './statement.js'
import { ClickHouseHandle } from './handle-base.js'

/**
 * Embedded ClickHouse: chDB in this process, driven through @clickhouse/client with chDB's
 * connection. chDB is an optional dependency, loaded only here, so a server-only install works.
 *
 * chDB facts this relies on (FACTS.md): one data directory per process and one process per
 * directory (the second fails with a generic error; the owner's PID is in `<dir>/status`);
 * `clickhouse_settings` become session-wide SETs, so inserts go through `chdb.rawInsert`, whose
 * settings are a per-statement SETTINGS clause.
 */
export interface EmbeddedClickHouse extends ClickHouse {
  readonly mode: 'embedded'
  readonly dataDir: string
  /** Inserts JSONEachRow text as is (no parse in JS): what the owner does for its proxies. */
  insertNdjson(table: string, body: string | Buffer, settings?: Record<string, string | number>): Promise<void>
}

/** chDB refused the directory because another process holds it (`pid` from its status file, if readable). */
export class ChdbLockedError extends ClickHouseFailure {
  readonly dataDir: string
  readonly pid?: number
  constructor(dataDir: string, pid: number | undefined, cause: unknown) {
    super(`embedded ClickHouse at ${dataDir} is in use by ${pid === undefined ? 'another process' : `process ${pid}`}`, {
      hint: 'stop that process, or let it serve this one (a Tributary process of the same home does), or use a ClickHouse server url',
      cause,
    })
    this.name = 'ChdbLockedError'
    this.dataDir = dataDir
    this.pid = pid
  }
}

// The part of chdb/connection used here, typed locally so a build without chdb installed still compiles.
interface ChdbConnection {
  readonly chdb: {
    rawInsert(params: { table: string; values: string | Buffer; format: 'JSONEachRow'; settings?: Record<string, string | number | boolean> }): Promise<unknown>
  }
}
type CreateChdbConnection = (opts: { path: string }) => ChdbConnection
type ClientConnection = NonNullable<Parameters<typeof createClient>[0]>['connection']

/** Loads chDB on first use. `specifier` exists so a test can simulate a missing package. */
export async function loadChdb(specifier = 'chdb/connection'): Promise<CreateChdbConnection> {
  let mod: { createChdbConnection?: CreateChdbConnection; default?: { createChdbConnection?: CreateChdbConnection } }
  try {
    mod = (await import(specifier)) as typeof mod
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND') {
      throw new TributaryError('E_CLICKHOUSE', 'embedded ClickHouse needs the optional package chdb, which is not installed', {
        hint: 'npm install chdb, or set a ClickHouse server url / CLICKHOUSE_URL',
        cause: err,
      })
    }
    throw new TributaryError('E_CLICKHOUSE', `the chdb package failed to load: ${errorMessage(err)}`, {
      hint: 'reinstall it (npm install chdb; it ships native builds for Linux and macOS), or set a ClickHouse server url / CLICKHOUSE_URL',
      cause: err,
    })
  }
  const create = mod.createChdbConnection ?? mod.default?.createChdbConnection
  if (typeof create !== 'function') {
    throw new TributaryError('E_CLICKHOUSE', 'the installed chdb package has no chdb/connection entry', { hint: 'install chdb 3.4 or newer (npm install chdb@^3.4.0)' })
  }
  return create
}

// chDB binds one data directory per process; reserved synchronously so concurrent opens cannot race.
let openDir: string | undefined

/** The PID written in `<dir>/status` by the process holding the directory, if the file exists. */
async function statusHolder(dir: string): Promise<{ exists: boolean; pid?: number }> {
  let text: string
  try {
    text = await fs.readFile(path.join(dir, 'status'), 'utf8')
  } catch {
    return { exists: false }
  }
  const m = /PID:\s*(\d+)/.exec(text)
  const pid = m ? Number(m[1]) : undefined
  if (pid === undefined || pid === process.pid) return { exists: true }
  try {
    process.kill(pid, 0)
    return { exists: true, pid }
  } catch (err) {
    // EPERM: alive but not ours to signal. ESRCH: the file is stale (left by a killed owner).
    return (err as { code?: string }).code === 'EPERM' ? { exists: true, pid } : { exists: false }
  }
}

/** The live process (not this one) that holds chDB's lock on `dataDir`, per its status file. */
export async function chdbHolder(dataDir: string): Promise<number | undefined> {
  return (await statusHolder(path.resolve(dataDir))).pid
}

/** Opens chDB on `dir`. Refused while a status file exists: another process holds the lock. */
async function connectChdb(create: CreateChdbConnection, dir: string): Promise<ChdbConnection> {
  for (let attempt = 1; ; attempt++) {
    try {
      return create({ path: dir })
    } catch (err) {
      const holder = await statusHolder(dir)
      if (holder.exists) throw new ChdbLockedError(dir, holder.pid, err)
      // No status file: the previous owner may have closed just now. One more try, then it is real.
      if (attempt >= 2) {
        throw new ClickHouseFailure(`cannot open embedded ClickHouse at ${dir}: ${errorMessage(err)}`, {
          hint: 'check that the directory is writable; chDB prints the underlying reason on stderr',
          cause: err,
        })
      }
    }
  }
}

export async function openChdb(dataDir: string): Promise<EmbeddedClickHouse> {
  const dir = path.resolve(dataDir)
  if (openDir !== undefined) {
    throw new TributaryError('E_CLICKHOUSE', `this process already has embedded ClickHouse open at ${openDir}; chDB allows one data directory per process`, {
      hint: openDir === dir ? 'share one handle per home through openClickHouse()' : 'use one Tributary home per process, or a ClickHouse server url',
    })
  }
  openDir = dir
  try {
    const create = await loadChdb()
    await fs.mkdir(dir, { recursive: true })
    const conn = await connectChdb(create, dir)
    const client = createClient({ connection: conn as unknown as ClientConnection, log: { level: ClickHouseLogLevel.OFF } })
    try {
      // Session-wide on purpose: 64-bit integers arrive quoted, as from a server, and rows.ts decides.
      await client.command({ query: 'SET output_format_json_quote_64bit_integers = 1' })
      const token = await client.query({ query: "SELECT count() AS n FROM system.settings WHERE name = 'insert_deduplication_token'", format: 'JSONEachRow' })
      const hasToken = Number(((await token.json()) as { n: number | string }[])[0]?.n ?? 0) > 0
      return new Embedded(dir, client, conn, hasToken)
    } catch (err) {
      await client.close().catch(() => undefined)
      throw toClickHouseFailure(err, `cannot start embedded ClickHouse at ${dir}`)
    }
  } catch (err) {
    openDir = undefined
    throw err
  }
}

class Embedded extends ClickHouseHandle implements EmbeddedClickHouse {
  readonly mode = 'embedded' as const
  #closed = false
  #version?: Promise<string>

  constructor(
    readonly dataDir: string,
    private readonly client: ClickHouseClient,
    private readonly conn: ChdbConnection,
    // When the engine knows insert_deduplication_token, every insert names it ('' = none), so a
    // token can never leak from one insert to the next through the session.
    private readonly hasToken: boolean,
  ) {
    super()
  }

  async query<T extends JsonObject = JsonObject>(sql: string, params?: Record<string, JsonPrimitive>): Promise<T[]> {
    this.#assertOpen()
    const query = trimStatement(sql)
    refuseSessionSet(query)
    try {
      const rs = await this.client.query({ query, format: 'JSON', query_params: nonEmpty(params) })
      const res = (await rs.json()) as { meta?: ColumnMeta[]; data: T[] }
      return normalizeRows(res.meta ?? [], res.data)
    } catch (err) {
      throw toClickHouseFailure(err, 'query failed', 'embedded ClickHouse')
    }
  }

  async command(sql: string, params?: Record<string, JsonPrimitive>): Promise<void> {
    this.#assertOpen()
    const query = trimStatement(sql)
    refuseSessionSet(query)
    try {
      await this.client.command({ query, query_params: nonEmpty(params) })
    } catch (err) {
      throw toClickHouseFailure(err, 'statement failed', 'embedded ClickHouse')
    }
  }

  async insert(table: string, rows: readonly JsonObject[], opts: InsertOptions = {}): Promise<void> {
    if (rows.length === 0) return
    await this.insertNdjson(table, jsonEachRow(rows, opts.addColumn, opts.json), opts.settings)
  }

  async insertNdjson(table: string, body: string | Buffer, settings: Record<string, string | number> = {}): Promise<void> {
    this.#assertOpen()
    const name = formatTableName(parseTableName(table))
    if (body.length === 0) return
    const perStatement = this.hasToken ? { insert_deduplication_token: '', ...settings } : settings
    try {
      await this.conn.chdb.rawInsert({ table: name, values: body, format: 'JSONEachRow', settings: perStatement })
    } catch (err) {
      throw toClickHouseFailure(err, `insert into "${name}" failed`, 'embedded ClickHouse')
    }
  }

  version(): Promise<string> {
    this.#version ??= this.query<{ v: string }>('SELECT version() AS v').then((r) => String(r[0]?.v))
    return this.#version
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    try {
      await this.client.close()
    } finally {
      if (openDir === this.dataDir) openDir = undefined
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new TributaryError('E_CLICKHOUSE', `embedded ClickHouse at ${this.dataDir} is closed`, { hint: 'open it again with openClickHouse()' })
  }
}

function nonEmpty(params?: Record<string, JsonPrimitive>): Record<string, JsonPrimitive> | undefined {
  return params && Object.keys(params).length > 0 ? params : undefined
}
