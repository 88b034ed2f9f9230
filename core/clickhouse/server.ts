import { Readable } from 'node:stream'
import { finished } from 'node:stream/promises'
import fs from 'node:fs/promises'
import { rootCertificates } from 'node:tls'
import { ClickHouseLogLevel, createClient, type ClickHouseClient, type ClickHouseClientConfigOptions } from '@clickhouse/client'
import { TributaryError, errorMessage } from '../errors.js'
import type { ClickHouse, ClickHouseConnectionOptions, InsertOptions, JsonObject, JsonPrimitive } from '../plugin-api.js'
import { ClickHouseFailure, toClickHouseFailure } from './errors.js'
import { quoteTable, validateIdentifier } from './identifiers.js'
import { normalizeRows, type ColumnMeta } from './rows.js'
import { jsonEachRow } from './json-lines.js'
import { trimStatement } from './statement.js'
import { ClickHouseHandle } from './handle-base.js'

/**
 * Server mode: @clickhouse/client over HTTP(S). Uses only what ClickHouse 18.16 understands
 * (JSON and JSONEachRow formats, per-request settings); newer features are detected by the
 * caller (features.ts), not assumed here. Settings travel as URL parameters of one request, so
 * unlike chDB they never outlive the statement.
 */
export async function openServer(opts: ClickHouseConnectionOptions): Promise<ClickHouse> {
  const url = parseUrl(opts.url)
  if (opts.database !== undefined) validateIdentifier(opts.database, 'database')
  const config: ClickHouseClientConfigOptions = {
    url: url.toString(),
    username: opts.user,
    password: opts.password,
    database: opts.database,
    log: { level: ClickHouseLogLevel.OFF },
    // Large inserts and analytical queries outlast the client's 30 s default.
    request_timeout: 300_000,
  }
  const tls = await readTls(opts.tls)
  if (tls) {
    if (url.protocol !== 'https:') {
      throw new TributaryError('E_CONFIG', `TLS files are set but the ClickHouse url ${redact(url)} is not https`, { hint: 'use an https:// url, or drop the tls settings' })
    }
    config.tls = tls
  }
  const where = `ClickHouse at ${redact(url)}`
  const ch = new Server(createClient(config), where)
  try {
    await ch.connect()
  } catch (err) {
    await ch.close().catch(() => undefined)
    throw err
  }
  return ch
}

function parseUrl(raw: string | undefined): URL {
  let url: URL | undefined
  try {
    url = raw === undefined ? undefined : new URL(raw)
  } catch {
    url = undefined
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new TributaryError('E_CONFIG', `invalid ClickHouse url ${JSON.stringify(raw)}`, { hint: 'use http://host:8123 or https://host:8443' })
  }
  return url
}

/** The url without credentials, for messages. */
function redact(url: URL): string {
  const u = new URL(url.toString())
  u.username = ''
  u.password = ''
  return u.toString().replace(/\/$/, '')
}

async function readTls(tls: ClickHouseConnectionOptions['tls']): Promise<ClickHouseClientConfigOptions['tls']> {
  if (!tls || (tls.ca === undefined && tls.cert === undefined && tls.key === undefined)) return undefined
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new TributaryError('E_CONFIG', 'ClickHouse TLS needs both a client certificate and its key', { hint: 'set both tls.cert and tls.key, or neither' })
  }
  const read = async (file: string, what: string): Promise<Buffer> => {
    try {
      return await fs.readFile(file)
    } catch (err) {
      throw new TributaryError('E_FILE', `cannot read the ClickHouse TLS ${what} ${file}: ${errorMessage(err)}`, { hint: 'check the path in the tls settings', cause: err })
    }
  }
  // The client insists on a CA with client certificates; without one, trust the usual public roots.
  const ca = tls.ca !== undefined ? await read(tls.ca, 'CA file') : Buffer.from(rootCertificates.join('\n'))
  if (tls.cert === undefined || tls.key === undefined) return { ca_cert: ca }
  return { ca_cert: ca, cert: await read(tls.cert, 'certificate'), key: await read(tls.key, 'key') }
}

class Server extends ClickHouseHandle implements ClickHouse {
  readonly mode = 'server' as const
  #version?: Promise<string>

  constructor(
    private readonly client: ClickHouseClient,
    private readonly where: string,
  ) {
    super()
  }

  async query<T extends JsonObject = JsonObject>(sql: string, params?: Record<string, JsonPrimitive>): Promise<T[]> {
    try {
      const rs = await this.client.query({ query: trimStatement(sql), format: 'JSON', query_params: nonEmpty(params) })
      const res = (await rs.json()) as { meta?: ColumnMeta[]; data: T[] }
      return normalizeRows(res.meta ?? [], res.data)
    } catch (err) {
      throw this.#fail(err, 'query failed', params)
    }
  }

  async command(sql: string, params?: Record<string, JsonPrimitive>): Promise<void> {
    try {
      await this.client.command({ query: trimStatement(sql), query_params: nonEmpty(params) })
    } catch (err) {
      throw this.#fail(err, 'statement failed', params)
    }
  }

  async insert(table: string, rows: readonly JsonObject[], opts: InsertOptions = {}): Promise<void> {
    if (rows.length === 0) return
    const name = quoteTable(table)
    // One JSONEachRow body, as for chDB: the rows' own texts when given and the added column
    // spliced in (the client's insert() would copy each row to add it, then stringify it).
    const body = Buffer.from(jsonEachRow(rows, opts.addColumn, opts.json))
    try {
      const res = await this.client.exec({ query: `INSERT INTO ${name} FORMAT JSONEachRow`, values: Readable.from([body]), clickhouse_settings: opts.settings })
      // An insert answers with an empty body: read it so the connection goes back to the pool.
      res.stream.resume()
      await finished(res.stream)
    } catch (err) {
      throw this.#fail(err, `insert into ${name} failed`)
    }
  }

  /** Asks the version once at open: a wrong url or password fails here, in one clear sentence. */
  async connect(): Promise<void> {
    try {
      const rs = await this.client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })
      const v = String(((await rs.json()) as { v: string }[])[0]?.v)
      this.#version = Promise.resolve(v)
    } catch (err) {
      throw this.#fail(err, 'cannot connect')
    }
  }

  version(): Promise<string> {
    this.#version ??= this.query<{ v: string }>('SELECT version() AS v').then((r) => String(r[0]?.v))
    // A failed probe must not be cached: the server may come up later.
    this.#version.catch(() => (this.#version = undefined))
    return this.#version
  }

  async close(): Promise<void> {
    await this.client.close()
  }

  #fail(err: unknown, what: string, params?: Record<string, JsonPrimitive>): TributaryError {
    const failure = toClickHouseFailure(err, what, this.where)
    // Servers before query parameters (18.16) take `param_x` for an unknown setting (code 115).
    if (failure instanceof ClickHouseFailure && failure.clickhouseCode === 115 && nonEmpty(params)) {
      return new ClickHouseFailure(`${what}: ${this.where} does not support query parameters ({name:Type})`, {
        hint: 'upgrade ClickHouse, or use a query without parameters',
        cause: err,
        clickhouseCode: 115,
      })
    }
    return failure
  }
}

function nonEmpty(params?: Record<string, JsonPrimitive>): Record<string, JsonPrimitive> | undefined {
  return params && Object.keys(params).length > 0 ? params : undefined
}
