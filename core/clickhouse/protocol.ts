import { TributaryError, type ErrorCode } from '../errors.js'
import type { JsonObject, JsonPrimitive } from '../plugin-api.js'
import { ClickHouseFailure } from './errors.js'

/**
 * The wire protocol between the process that owns a home's chDB and the other processes of
 * that home: HTTP/1.1 over the Unix socket `homePaths(home).clickhouseSocket`, one request per
 * connection (so a dead owner shows up as a failed connect, before anything is sent).
 *
 *   GET  /ping                               → PingReply
 *   GET  /version                            → { version }
 *   POST /query    { sql, params? }          → { rows }   (64-bit integers already normalized)
 *   POST /command  { sql, params? }          → {}
 *   POST /insert?table=t&settings={json}     body: JSONEachRow text, passed to chDB as is → {}
 *
 * Failures answer 500 with ErrorReply and come back as the same TributaryError.
 */
export const PROTOCOL_VERSION = '1'
export const PROTOCOL_HEADER = 'x-tributary-clickhouse-protocol'

export interface PingReply {
  pid: number
  dataDir: string
  protocol: string
}
export interface StatementRequest {
  sql: string
  params?: Record<string, JsonPrimitive>
}
export interface QueryReply {
  rows: JsonObject[]
}
export interface VersionReply {
  version: string
}
export interface ErrorReply {
  error: { code: ErrorCode; message: string; hint?: string; clickhouseCode?: number; unavailable?: boolean }
}

export function errorReply(err: unknown): ErrorReply {
  if (err instanceof TributaryError) {
    const ch = err instanceof ClickHouseFailure ? { clickhouseCode: err.clickhouseCode, unavailable: err.unavailable } : {}
    return { error: { code: err.code, message: err.message, hint: err.hint, ...ch } }
  }
  return { error: { code: 'E_CLICKHOUSE', message: err instanceof Error ? err.message : String(err) } }
}

export function errorFromReply(reply: unknown): TributaryError {
  const e = (reply as Partial<ErrorReply> | null)?.error
  if (!e || typeof e.message !== 'string') {
    return new ClickHouseFailure('the ClickHouse owner process sent an unreadable answer', { hint: 'check that all Tributary processes of this home run the same version' })
  }
  if (e.code === 'E_CLICKHOUSE') return new ClickHouseFailure(e.message, { hint: e.hint, clickhouseCode: e.clickhouseCode, unavailable: e.unavailable })
  return new TributaryError(e.code, e.message, { hint: e.hint })
}

// sun_path holds 108 bytes with the terminating NUL; Node silently truncates longer paths.
const MAX_SOCKET_PATH_BYTES = 107

export function checkSocketPath(socketPath: string): void {
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) {
    throw new TributaryError('E_CLICKHOUSE', `the Tributary home path is too long for its ClickHouse socket (${socketPath})`, {
      hint: `use a home whose path is shorter (the socket path must stay under ${MAX_SOCKET_PATH_BYTES + 1} bytes), via --home or TRIBUTARY_HOME`,
    })
  }
}
