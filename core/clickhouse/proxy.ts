import http from 'node:http'
import { TributaryError, errorMessage } from '../errors.js'
import type { ClickHouse, InsertOptions, JsonObject, JsonPrimitive } from '../plugin-api.js'
import { ClickHouseFailure } from './errors.js'
import { parseTableName } from './identifiers.js'
import {
  PROTOCOL_HEADER,
  PROTOCOL_VERSION,
  errorFromReply,
  type PingReply,
  type QueryReply,
  type StatementRequest,
  type VersionReply,
} from './protocol.js'
import { ClickHouseHandle } from './handle-base.js'
import { jsonEachRow } from './json-lines.js'

/**
 * The proxy side: ClickHouse through the process that owns the home's chDB (owner.ts).
 * Each request opens its own connection, so a gone owner is a failed connect: the request was
 * provably not sent, and the caller may re-resolve and retry safely.
 */
export interface ProxyClickHouse extends ClickHouse {
  readonly mode: 'proxy'
  readonly ownerPid: number
}

/** The owner could not be reached. `sent`: the request may have reached it before it went away. */
export class OwnerUnreachableError extends ClickHouseFailure {
  readonly sent: boolean
  constructor(socketPath: string, sent: boolean, cause: unknown) {
    super(`the process serving embedded ClickHouse on ${socketPath} went away${sent ? ' during the request' : ''}`, {
      hint: 'retry: another Tributary process of this home takes over, or this one opens ClickHouse itself',
      cause,
      unavailable: true,
    })
    this.name = 'OwnerUnreachableError'
    this.sent = sent
  }
}

/** Connects to the home's owner; undefined when nobody serves the socket (no file, refused, silent). */
export async function connectProxy(socketPath: string, timeoutMs = 2_000): Promise<ProxyClickHouse | undefined> {
  let ping: PingReply
  try {
    ping = (await request(socketPath, 'GET', '/ping', undefined, timeoutMs)) as PingReply
  } catch (err) {
    if (err instanceof OwnerUnreachableError) return undefined
    throw err
  }
  if (ping.protocol !== PROTOCOL_VERSION) {
    throw new TributaryError('E_CLICKHOUSE', `process ${ping.pid} serves this home's ClickHouse with owner protocol ${ping.protocol}; this process speaks ${PROTOCOL_VERSION}`, {
      hint: 'run the same Tributary version in every process of a home (stop the other process, or upgrade it)',
    })
  }
  return new ProxyHandle(socketPath, ping.pid)
}

class ProxyHandle extends ClickHouseHandle implements ProxyClickHouse {
  readonly mode = 'proxy' as const
  #version?: Promise<string>

  constructor(
    private readonly socketPath: string,
    readonly ownerPid: number,
  ) {
    super()
  }

  async query<T extends JsonObject = JsonObject>(sql: string, params?: Record<string, JsonPrimitive>): Promise<T[]> {
    const reply = (await request(this.socketPath, 'POST', '/query', json({ sql, params } satisfies StatementRequest))) as QueryReply
    return reply.rows as T[]
  }

  async command(sql: string, params?: Record<string, JsonPrimitive>): Promise<void> {
    await request(this.socketPath, 'POST', '/command', json({ sql, params } satisfies StatementRequest))
  }

  async insert(table: string, rows: readonly JsonObject[], opts: InsertOptions = {}): Promise<void> {
    if (rows.length === 0) return
    parseTableName(table)
    // The owner passes JSONEachRow text to chDB as is: the added column is in the text.
    const body = jsonEachRow(rows, opts.addColumn, opts.json)
    const q = new URLSearchParams({ table, settings: JSON.stringify(opts.settings ?? {}) })
    await request(this.socketPath, 'POST', `/insert?${q}`, body)
  }

  version(): Promise<string> {
    this.#version ??= request(this.socketPath, 'GET', '/version').then((r) => (r as VersionReply).version)
    this.#version.catch(() => (this.#version = undefined))
    return this.#version
  }

  async close(): Promise<void> {
    // Nothing held: every request has its own connection.
  }
}

function json(v: unknown): string {
  return JSON.stringify(v)
}

function request(socketPath: string, method: string, path: string, body?: string, timeoutMs?: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let connected = false
    const fail = (err: unknown): void => reject(err instanceof TributaryError ? err : new OwnerUnreachableError(socketPath, connected, err))
    const req = http.request({
      socketPath,
      path,
      method,
      agent: false,
      headers: {
        [PROTOCOL_HEADER]: PROTOCOL_VERSION,
        connection: 'close',
        ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
      },
    })
    req.on('socket', (s) => s.once('connect', () => (connected = true)))
    if (timeoutMs !== undefined) req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)))
    req.on('error', fail)
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', fail)
      res.on('end', () => {
        if (!res.complete) return fail(new Error('the answer was cut off'))
        let parsed: unknown
        try {
          parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'))
        } catch (err) {
          return fail(new TributaryError('E_CLICKHOUSE', `the ClickHouse owner process sent an unreadable answer: ${errorMessage(err)}`, { cause: err }))
        }
        if (res.statusCode === 200) resolve(parsed)
        else reject(errorFromReply(parsed))
      })
    })
    req.end(body)
  })
}
