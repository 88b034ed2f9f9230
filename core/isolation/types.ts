/**
 * Running a community plugin isolated (DESIGN §8, docs/threat-model.md): the shapes shared by the
 * host side (isolate.ts, plugin-process.ts, supervisor.ts, net-proxy.ts) and the child process
 * (child/main.ts). Messages are JSON frames; one frame per hook call, so batches cross as batches.
 */
import type { JsonObject, JsonValue, PluginKind } from '../plugin-api.js'

/** `isolation` of the pipeline file, normalized. */
export interface IsolationSettings {
  /** A hook that does not answer within this (or a process whose event loop is blocked as long) is killed and restarted. */
  hookTimeoutMs: number
  /** Crashes in a row (no successful hook call between them) after which the stage stops. */
  restarts: number
  /**
   * `required`: refuse to start a community plugin where the host cannot create namespaces.
   * `if-available`: run it there under Node's permission model only, without network isolation.
   */
  namespaces: 'required' | 'if-available'
}

export const DEFAULT_ISOLATION: IsolationSettings = { hookTimeoutMs: 30_000, restarts: 5, namespaces: 'required' }

/** A `network` permission: `host`, `host:port`, `*.domain[:port]`, `[v6]:port`. */
export interface HostRule {
  /** Lower-case host name or IP (IPv6 without brackets); for a wildcard, the domain after `*.`. */
  host: string
  wildcard: boolean
  /** Absent: any port. */
  port?: number
  /** As written in the manifest, for messages. */
  text: string
}

/** What one isolated stage may touch, with every path absolute. */
export interface SandboxPolicy {
  read: string[]
  write: string[]
  env: string[]
  spawn: boolean
  workers: boolean
  addons: boolean
  network: HostRule[]
}

/** Who runs in the child: for messages (`plugin "geo" (transform, stage enrich)`). */
export interface PluginIdentity {
  name: string
  kind: PluginKind
  stage: string
  pipeline: string
}

/** First frame to the child: everything it needs to load the plugin and open it. */
export interface InitMessage {
  t: 'init'
  id: number
  plugin: PluginIdentity
  /** The plugin module's absolute path. */
  entry: string
  baseDir: string
  config: JsonObject
  /** Sources: the position to resume after. */
  checkpoint?: JsonValue
  policy: SandboxPolicy
  /** Unix socket of the host's allowlisting proxy (the only way out of the namespace). */
  proxySocket: string
  /** Declared environment variables and their values: all the child's environment holds. */
  env: Record<string, string>
  /** Import and check the module only, without opening it (the install-time load check). */
  probe?: boolean
}

export type HookName = 'read' | 'process' | 'write' | 'close' | 'snapshot' | 'restore' | 'tick' | 'finish'

/** What the child answers to `init`: what the opened plugin has, for the host's proxy object. */
export interface OpenedInfo {
  hooks: HookName[]
  /** Sinks: their batching (read once by the runtime after open). */
  batching?: { rows: number; bytes: number; maxWaitMs: number }
}

export interface SerializedError {
  name: string
  message: string
  code?: string
  hint?: string
  /** ClickHouse-unavailable errors keep that flag across the boundary (retry, not fail). */
  unavailable?: boolean
}

export type HostToChild =
  | InitMessage
  | { t: 'call'; id: number; hook: HookName; args: JsonValue[] }
  | { t: 'settled'; batch: number; ok: boolean; error?: string; backpressure?: boolean }
  | { t: 'abort' }
  | { t: 'reply'; id: number; ok: true; value: JsonValue | null }
  | { t: 'reply'; id: number; ok: false; error: SerializedError }

export type ChildToHost =
  | { t: 'res'; id: number; ok: true; value: JsonValue | null }
  | { t: 'res'; id: number; ok: false; error: SerializedError }
  | { t: 'req'; id: number; op: 'state.get' | 'state.put'; key: string; value?: JsonValue }
  | { t: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; obj: JsonValue; msg?: string }
  | { t: 'alive'; metrics?: { defs: MetricDef[]; ops: MetricOp[] } }

/** A plugin's own series, defined in the child and kept on the host's registry. */
export interface MetricDef {
  kind: 'counter' | 'gauge'
  name: string
  help: string
  labelNames: string[]
}

/** Summed operations on a series since the last heartbeat (`inc` with a negative `n` is a gauge's dec). */
export interface MetricOp {
  name: string
  op: 'inc' | 'set'
  labels: Record<string, string>
  n: number
}

/**
 * Transform results as JSON: `reject(reason)` and `keyed()` outputs carry symbols that JSON
 * drops, so they travel beside the results, by index.
 */
export interface EncodedResults {
  results: (JsonObject | JsonObject[] | null)[]
  rejects?: [number, string][]
}

export interface EncodedKeyed {
  records: JsonObject[]
  keys: (string | null)[]
}

/** A source batch as it crosses: `settled()` becomes a numbered notification back to the child. */
export interface EncodedSourceBatch {
  items: JsonValue[]
  checkpoint?: JsonValue
  done?: boolean
  failWhenFull?: boolean
  /** Set when the plugin's batch has `settled()`: the host tells the child with this number. */
  settle?: number
}
