/**
 * The public plugin API, exported as `tributary/plugin`. Built-in plugins use exactly this
 * module and nothing else from core, so a community plugin can do all that a built-in does.
 *
 * Hooks are batch-oriented and few. Control signals: throw `NotConnectedError` to be retried
 * with back-off, return `{ done: true }` from a source at end of input, return `reject(reason)`
 * for a record that should go to the dead-letter queue while the rest of the batch flows.
 */

import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import type { NatsConnection } from '@nats-io/nats-core'

export type JsonPrimitive = null | boolean | number | string
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue }
export type JsonObject = { [key: string]: JsonValue }

export type PluginKind = 'source' | 'transform' | 'sink'

export interface Logger {
  debug(obj: object | string, msg?: string): void
  info(obj: object | string, msg?: string): void
  warn(obj: object | string, msg?: string): void
  error(obj: object | string, msg?: string): void
}

/** Key/value state of this stage, kept in JetStream KV so any process can resume it. */
export interface StateStore {
  get(key: string): Promise<JsonValue | undefined>
  put(key: string, value: JsonValue): Promise<void>
}

/** A compiled expression in Tributary's expression language (CEL; numbers are JSON numbers). */
export interface CompiledExpression {
  readonly source: string
  evaluate(record: JsonObject): JsonValue
  /** Evaluates and coerces to a boolean; a non-boolean result is an error naming the expression. */
  test(record: JsonObject): boolean
}

export interface ExpressionCompiler {
  compile(source: string): CompiledExpression
}

export interface ClickHouseConnectionOptions {
  /** Server mode when set (http[s]://host:port); embedded chDB in the Tributary home otherwise. */
  url?: string
  user?: string
  password?: string
  database?: string
  tls?: { ca?: string; cert?: string; key?: string }
}

/** One ClickHouse handle whatever the mode: embedded chDB, a server, or the home's chDB owner. */
export interface ClickHouse {
  readonly mode: 'embedded' | 'server' | 'proxy'
  /** Runs a SELECT and returns its rows; 64-bit integers are normalized to numbers when safe. */
  query<T extends JsonObject = JsonObject>(sql: string, params?: Record<string, JsonPrimitive>): Promise<T[]>
  /** Runs a statement that returns no rows (DDL, ALTER). */
  command(sql: string, params?: Record<string, JsonPrimitive>): Promise<void>
  /** Inserts rows (JSONEachRow); `settings` apply to this statement only. */
  insert(table: string, rows: readonly JsonObject[], opts?: InsertOptions): Promise<void>
  /** Server version string, e.g. `26.7.1.1` or `18.16.1`. */
  version(): Promise<string>
  /**
   * Creates the table from `columns` when it is missing, or checks an existing one against them
   * (names, types, nullability): a mismatch is an error naming every differing column.
   * Returns the table's columns (name → type).
   */
  ensureTable(spec: TableSpec): Promise<Record<string, string>>
  /** What this ClickHouse can do (detected, never assumed): for a table when one is named. */
  capabilities(table?: string): Promise<ClickHouseCapabilities>
  close(): Promise<void>
}

export interface InsertOptions {
  /** ClickHouse settings for this statement only. */
  settings?: Record<string, string | number>
  /**
   * One more field for every row, `values[i]` in `rows[i]`, as if each row had it (replacing a
   * field of that name): cheaper than copying every row to add it (a sink's origin column).
   */
  addColumn?: { name: string; values: readonly string[] }
  /**
   * Each row's own JSON text, aligned with `rows` (a sink passes `SinkBatch.json`): sent as is
   * instead of serialising the row again. Servers that take rows as objects ignore it.
   */
  json?: readonly string[]
}

export interface ClickHouseCapabilities {
  version: string
  /** `insert_deduplication_token` is a known setting (not on 18.16). */
  dedupTokens: boolean
  /** MergeTree tables can have `non_replicated_deduplication_window`. */
  dedupWindows: boolean
  /** The named table's deduplication window (0: none: a repeated insert is not dropped). */
  tableDedupWindow: number
  /** `EXCHANGE TABLES` works here (else a three-way RENAME swaps tables). */
  exchangeTables: boolean
}

export interface TableSpec {
  table: string
  /** name → ClickHouse type; creates a MergeTree table when the table is missing. */
  columns?: Record<string, string>
  orderBy?: string[]
  /** Columns the sink adds for itself when it creates the table (not required of an existing one). */
  internalColumns?: Record<string, string>
  /** `non_replicated_deduplication_window` of a created table, where the server has it. */
  dedupWindow?: number
  /** `add`: columns missing from an existing table are added (ALTER ADD COLUMN) instead of refused. */
  evolve?: 'none' | 'add'
}

/** A NATS server other than the pipeline's own; credentials come from `${env:...}` references. */
export interface NatsConnectOptions {
  /** Server URL(s): a list, or one string with commas between URLs. Unset: the pipeline's own NATS. */
  servers?: string | string[]
  user?: string
  password?: string
  token?: string
  /** Path of a .creds file (JWT and nkey seed). */
  creds?: string
}

/** A NATS connection lent to a plugin; `close()` releases it whoever owns it. */
export interface NatsHandle {
  readonly nc: NatsConnection
  /** True for the pipeline's own connection, which the runtime shares and closes itself. */
  readonly shared: boolean
  /** Drains a connection opened for the plugin; does nothing to the pipeline's shared one. */
  close(): Promise<void>
}

/** What serves one route on the runtime's HTTP port (see `HttpRoutes`). */
export interface HttpRouteHandler {
  /** Every request whose path is the route's prefix or below it; the handler answers it. */
  request(req: IncomingMessage, res: ServerResponse): void
  /** A request to switch protocols (WebSocket) under the prefix; the handler owns the socket. Absent: answered 404. */
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer): void
}

/**
 * Routes on the runtime's HTTP port, the one that serves `/metrics` (`metrics.port` in the
 * pipeline file, or `run --metrics-port`), for plugins that serve clients (the `push` sink).
 */
export interface HttpRoutes {
  /** Base URL of the runtime's HTTP port (`http://127.0.0.1:9464`); undefined when the runtime serves none. */
  readonly url: string | undefined
  /**
   * Serves `pathPrefix` (`/push/ops`) and every path below it (`/push/ops/view`). Throws when the
   * runtime serves no HTTP port or another stage holds the prefix. Returns the route's removal.
   */
  route(pathPrefix: string, handler: HttpRouteHandler): () => void
}

/** A counter of a plugin's own on the runtime's `/metrics`, labelled `pipeline` and `stage` besides its own labels. */
export interface PluginCounter {
  inc(labels?: Record<string, string>, n?: number): void
}

export interface PluginGauge {
  set(value: number, labels?: Record<string, string>): void
  inc(labels?: Record<string, string>, n?: number): void
  dec(labels?: Record<string, string>, n?: number): void
}

/**
 * A plugin's own Prometheus series (name them `tributary_<plugin>_…`). Stages of one plugin share
 * a series, told apart by the `stage` label. When the runtime measures nothing they do nothing.
 */
export interface PluginMetrics {
  counter(name: string, help: string, labelNames?: readonly string[]): PluginCounter
  gauge(name: string, help: string, labelNames?: readonly string[]): PluginGauge
}

export interface PluginContext<C = JsonObject> {
  readonly pipeline: string
  readonly stageId: string
  /** Validated config with the manifest's defaults applied and secret references resolved. */
  readonly config: C
  readonly logger: Logger
  /** Aborted when the runtime drains or stops. */
  readonly signal: AbortSignal
  /** Folder of the pipeline file; relative paths in config are already resolved against it. */
  readonly baseDir: string
  readonly state: StateStore
  readonly expressions: ExpressionCompiler
  /** Opens ClickHouse: embedded in the Tributary home by default, a server when `url` is set. */
  clickhouse(opts?: ClickHouseConnectionOptions): Promise<ClickHouse>
  /**
   * NATS for plugins that read or write subjects and streams themselves (the `nats` source and
   * sink). Without `servers`: the pipeline's own connection, shared (never close or drain its
   * `nc`; call the handle's `close()`). With `servers`: a new connection with the given auth.
   */
  nats(opts?: NatsConnectOptions): Promise<NatsHandle>
  /** Routes on the runtime's HTTP port (for plugins that serve clients). */
  readonly http: HttpRoutes
  /** The plugin's own series on the runtime's `/metrics`. */
  readonly metrics: PluginMetrics
}

// ---- sources ----

export interface SourceItem {
  /** Position of the record in its input, monotonic and the same when re-read (origin of its message id). */
  offset: number
  /** The record, or its JSON text when already serialized (saves a stringify on the hot path). */
  value?: JsonObject
  json?: string
  /** When set, the input could not be made a record: it goes to the dead-letter queue with `raw`. */
  error?: string
  raw?: string
  /** Event time in ms since the epoch, if the input carries one. */
  eventTime?: number
}

export interface SourceBatch {
  items: SourceItem[]
  /** Saved in KV once every item of this batch (and before) is durably in JetStream. */
  checkpoint?: JsonValue
  /** The input is finished (finite sources): the run ends once everything is flushed. */
  done?: boolean
  /**
   * Called once the batch is durably in JetStream (`ok`), or could not be stored: a push source
   * (HTTP) answers its client only then. With `failWhenFull`, a full stream fails the batch at
   * once (`backpressure: true`) instead of waiting for room, so the source can push back (503).
   */
  settled?(result: { ok: true } | { ok: false; error: Error; backpressure: boolean }): void
  failWhenFull?: boolean
}

export interface SourceReader {
  /** Resolves with the next batch; may wait for input. Resolve `{ items: [], done: true }` at the end. */
  read(): Promise<SourceBatch>
  close?(): Promise<void>
}

export interface SourceContext<C = JsonObject> extends PluginContext<C> {
  /** The checkpoint saved by the last run, if any: resume after it. */
  readonly checkpoint: JsonValue | undefined
}

// ---- transforms ----

const REJECT = Symbol.for('tributary.reject')

export interface Rejection {
  readonly [REJECT]: true
  readonly reason: string
}

/** One input's result: a record, several (split), none (null: dropped), or a rejection (DLQ). */
export type TransformResult = JsonObject | JsonObject[] | null | Rejection

export interface TransformProcessor {
  /**
   * Returns exactly one result per input record, in order. `meta` (one entry per record) is given
   * to stateful transforms (see `StatefulTransformProcessor`); a stateless transform ignores it.
   */
  process(records: readonly JsonObject[], meta?: readonly RecordMeta[]): TransformResult[] | Promise<TransformResult[]>
  close?(): Promise<void>
}

// ---- stateful transforms (manifest `"stateful": true`; protocol in docs/state.md) ----

/** What the runtime knows of an input besides its content. */
export interface RecordMeta {
  /** Stream sequence of the input: increases along the stage's input. */
  readonly seq: number
  /** Event time (ms since the epoch) that the source gave (`SourceItem.eventTime`, header `Trib-Event-Time`). */
  readonly eventTime?: number
  /**
   * When the input was stored in the stage's input stream (ms since the epoch): the stage's
   * processing time. Reading the input again after a crash gives the same value, so a
   * processing-time window gets the same records after a restart.
   */
  readonly arrivalTime: number
}

/**
 * The processor of a transform whose manifest says `"stateful": true`. The stage has one owner
 * that gets its inputs in stream order. After some batches the runtime writes the outputs, saves
 * `snapshot()` together with the last input sequence in one KV value, and only then acks the
 * inputs. After a crash it calls `restore()` with the last saved snapshot and resumes with the
 * inputs after it, so every input counts once in the state. Outputs may be produced a second time
 * after a crash: an output not tied to one input (a closed window) should carry a key
 * (`keyed(record, key)`) from which the runtime derives its message id, so the repeat is dropped.
 */
export interface StatefulTransformProcessor extends TransformProcessor {
  process(records: readonly JsonObject[], meta: readonly RecordMeta[]): TransformResult[] | Promise<TransformResult[]>
  /** All the state needed to continue after a restart, as JSON (large snapshots are chunked in KV). */
  snapshot(): JsonValue
  /** Replaces the whole state with a saved snapshot: at start, and to roll back to the last save. */
  restore(state: JsonValue): void | Promise<void>
  /**
   * Called while the stage is caught up (nothing waits on its input), with a processing-time
   * watermark in ms: every input stored before it has been given to `process()`. Close
   * processing-time windows here. Returns outputs (keyed).
   */
  tick?(watermarkMs: number): JsonObject[]
  /** The input is finished (a finite source drained): emit what is still open (keyed). */
  finish?(): JsonObject[]
}

const OUTPUT_KEY = Symbol.for('tributary.outputKey')

/**
 * Gives an output of a stateful transform a deterministic key (such as window and group): its
 * message id and sink idempotency key derive from it, so the same output produced again after a
 * crash is dropped as a duplicate. Distinct outputs need distinct keys. Returns the record.
 */
export function keyed<T extends JsonObject>(record: T, key: string): T {
  Object.defineProperty(record, OUTPUT_KEY, { value: key, enumerable: false, configurable: true })
  return record
}

/** The key given with `keyed()`, if any. */
export function outputKey(record: JsonObject): string | undefined {
  const k = (record as Record<symbol, unknown>)[OUTPUT_KEY]
  return typeof k === 'string' ? k : undefined
}

// ---- sinks ----

export interface SinkBatching {
  rows: number
  bytes: number
  maxWaitMs: number
}

export interface SinkBatch {
  records: readonly JsonObject[]
  /** Message id of each record's origin (pipeline, stage, epoch, sequence, index): idempotency keys. */
  ids: readonly string[]
  /**
   * Some inputs of this batch were delivered before (a crash, a redelivery): part of it may
   * already be written, so an idempotent sink checks which ids are there first.
   */
  redelivered: boolean
  /**
   * The JSON text each record was parsed from, aligned with `records`, when each record is
   * exactly that text (no transform before this sink); absent otherwise. A sink that would
   * serialise the records again can send this instead.
   */
  json?: readonly string[]
}

export interface SinkWriteResult {
  /** Records refused one by one (they go to the DLQ); the others are written. */
  rejected?: { index: number; reason: string }[]
}

export interface SinkWriter {
  /** How the runtime should batch records for this sink; defaults to 1000 rows / 1 MB / 200 ms. */
  readonly batching?: SinkBatching
  /** Durably writes the batch; inputs are acknowledged only after this resolves. */
  write(batch: SinkBatch): Promise<SinkWriteResult | void>
  close?(): Promise<void>
}

// ---- definitions ----

export interface SourceDefinition<C = JsonObject> {
  readonly kind: 'source'
  open(ctx: SourceContext<C>): SourceReader | Promise<SourceReader>
}
export interface TransformDefinition<C = JsonObject> {
  readonly kind: 'transform'
  open(ctx: PluginContext<C>): TransformProcessor | Promise<TransformProcessor>
}
export interface SinkDefinition<C = JsonObject> {
  readonly kind: 'sink'
  open(ctx: PluginContext<C>): SinkWriter | Promise<SinkWriter>
}
export type PluginDefinition = SourceDefinition<never> | TransformDefinition<never> | SinkDefinition<never>

export function defineSource<C = JsonObject>(def: Omit<SourceDefinition<C>, 'kind'>): SourceDefinition<C> {
  return { kind: 'source', open: def.open.bind(def) }
}
export function defineTransform<C = JsonObject>(def: Omit<TransformDefinition<C>, 'kind'>): TransformDefinition<C> {
  return { kind: 'transform', open: def.open.bind(def) }
}
export function defineSink<C = JsonObject>(def: Omit<SinkDefinition<C>, 'kind'>): SinkDefinition<C> {
  return { kind: 'sink', open: def.open.bind(def) }
}

export function reject(reason: string): Rejection {
  return { [REJECT]: true, reason }
}

export function isRejection(r: unknown): r is Rejection {
  return typeof r === 'object' && r !== null && (r as Record<symbol, unknown>)[REJECT] === true
}

/** Thrown by a plugin that cannot reach its peer: the runtime retries with back-off. */
export class NotConnectedError extends Error {
  readonly code = 'E_NOT_CONNECTED'
  constructor(message: string, opts?: { cause?: unknown }) {
    super(message, opts)
    this.name = 'NotConnectedError'
  }
}

/** Fresh offsets for push sources whose input has no position of its own (HTTP, core NATS, sockets). */
export { createOffsetCounter, type OffsetCounter } from './sources/offset-counter.js'

/** Parses a duration such as `500ms`, `1s`, `5m`, `2h`, `7d` (a number is milliseconds), and a size such as `64MB` (a number is bytes). */
export { parseDuration, parseBytes } from './config/units.js'

/** Milliseconds since the epoch from a record field: a number (ms) or a date-time string (ISO 8601). */
export { parseTimestamp } from './records/timestamp.js'

/**
 * Lookup tables: JetStream KV buckets that the `table` sink writes and `join` reads. Community
 * plugins use the same names to share them.
 */
export { tableBucket, tableKey } from './records/tables.js'

/**
 * True when an error from a `ctx.clickhouse()` handle means ClickHouse could not be reached
 * (server down, owner process gone, timeout): retry later, e.g. by throwing NotConnectedError.
 * Other ClickHouse errors (unknown table, bad SQL) will not go away by retrying.
 */
export function isClickHouseUnavailable(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { unavailable?: unknown }).unavailable === true
}

/**
 * SQL building for plugins that read ClickHouse. Identifiers are validated then backtick-quoted;
 * values that must be spliced (ClickHouse 18.16 has no query parameters) go through `sqlLiteral`.
 */
export { quoteIdentifier, quoteTable } from './clickhouse/identifiers.js'
export { sqlLiteral } from './clickhouse/literals.js'

/** Waits `ms`, or less when the signal aborts (pass ctx.signal so a drain is not held up). */
export { sleep } from './runtime/backoff.js'
