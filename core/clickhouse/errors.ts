import { TributaryError } from '../errors.js'

/**
 * A ClickHouse failure, code E_CLICKHOUSE. `clickhouseCode` is the server's numeric error code
 * when there is one (60 unknown table, 115 unknown setting, …); `unavailable` means ClickHouse
 * could not be reached at all (server down, owner process gone), so a retry later may succeed.
 */
export class ClickHouseFailure extends TributaryError {
  readonly clickhouseCode?: number
  readonly unavailable: boolean
  constructor(message: string, opts: { hint?: string; cause?: unknown; clickhouseCode?: number; unavailable?: boolean } = {}) {
    super('E_CLICKHOUSE', message, opts)
    this.name = 'ClickHouseFailure'
    this.clickhouseCode = opts.clickhouseCode
    this.unavailable = opts.unavailable ?? false
  }
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE'])

// Node's certificate verification failures.
const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID',
])

const HINTS: Record<number, string> = {
  60: 'create the table, or add `columns` to the clickhouse sink so Tributary creates it',
  81: 'create the database, or fix `database` in the ClickHouse settings',
  16: 'check the column names against the table (`DESCRIBE TABLE <table>`)',
  47: 'check the column names against the table (`DESCRIBE TABLE <table>`)',
  62: 'check the SQL syntax',
  115: 'this ClickHouse version does not know that setting; Tributary feature-detects what the server supports',
  192: 'check the ClickHouse user and password',
  193: 'check the ClickHouse user and password',
  516: 'check the ClickHouse user and password',
  497: 'grant the ClickHouse user the rights this statement needs',
  241: 'insert smaller batches or raise max_memory_usage on the server',
}
const PARSE_CODES = new Set([6, 26, 27, 38, 41, 53, 69, 70, 72, 117, 130, 131])
const PARSE_HINT = "a record does not fit the table's column types: compare the records with `DESCRIBE TABLE <table>`"

/** The numeric ClickHouse error code of an error from chDB or @clickhouse/client, if any. */
export function clickhouseCodeOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const e = err as { clickhouseCode?: unknown; code?: unknown; message?: unknown }
  if (typeof e.clickhouseCode === 'number') return e.clickhouseCode
  if (typeof e.code === 'string' && /^\d+$/.test(e.code)) return Number(e.code)
  // 18.16 answers `Code: 60, e.displayText() = …`, which the client does not parse.
  const m = typeof e.message === 'string' ? /^Code: (\d+)[.,]/.exec(e.message) : null
  return m ? Number(m[1]) : undefined
}

/** Strips the `Code: N, e.displayText() = DB::Exception:` wrapping of both old and new servers. */
export function cleanClickHouseMessage(message: string): string {
  let m = message.trim()
  m = m.replace(/^Code: \d+(?:, e\.displayText\(\) = |\. )(?:DB::Exception: )?/, '')
  m = m.replace(/, e\.what\(\) = DB::Exception\s*$/, '')
  const firstLine = m.split('\n')[0]!.trim()
  return firstLine.length > 600 ? `${firstLine.slice(0, 600)}…` : firstLine
}

function networkCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && NETWORK_CODES.has(code) ? code : undefined
}

/**
 * Turns whatever chDB or @clickhouse/client threw into a ClickHouseFailure. `what` says what
 * failed ("query failed", `insert into "events" failed`); `where` names the server for
 * connection errors.
 */
export function toClickHouseFailure(err: unknown, what: string, where = 'ClickHouse'): TributaryError {
  if (err instanceof TributaryError) return err
  const message = err instanceof Error ? err.message : String(err)
  const net = networkCode(err)
  // The client's request timeout has no code, only this message.
  if (net !== undefined || message === 'Timeout error.') {
    return new ClickHouseFailure(`${what}: cannot reach ${where} (${net ?? 'timeout'})`, {
      hint: 'check the ClickHouse url and that the server is running and reachable',
      cause: err,
      unavailable: true,
    })
  }
  const errCode = (err as { code?: unknown } | null)?.code
  if (typeof errCode === 'string' && TLS_CODES.has(errCode)) {
    return new ClickHouseFailure(`${what}: the TLS certificate of ${where} is not trusted (${message})`, {
      hint: 'set tls.ca to the CA file that signed the server certificate, and use the host name the certificate names',
      cause: err,
    })
  }
  const code = clickhouseCodeOf(err)
  const hint = code === undefined ? undefined : (HINTS[code] ?? (PARSE_CODES.has(code) ? PARSE_HINT : undefined))
  return new ClickHouseFailure(`${what}: ${cleanClickHouseMessage(message)}${code === undefined ? '' : ` (ClickHouse code ${code})`}`, {
    hint: hint ?? 'see the ClickHouse message; `tributary query` runs SQL against the same ClickHouse to investigate',
    cause: err,
    clickhouseCode: code,
  })
}
