import type { JsonObject, Logger, PluginKind } from '../../plugin-api.js'

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip'

export interface CheckResult {
  /** Stable id, e.g. `process-one-per-input`. */
  id: string
  status: CheckStatus
  /** What was checked or found, one or a few sentences. */
  detail: string
}

/** A record the plugin sent to the dead-letter queue during the suite (reject() or an error item). */
export interface DlqMarker {
  check: string
  reason: string
  record?: unknown
}

export interface ConformanceReport {
  plugin: { name?: string; kind?: PluginKind; version?: string; dir: string; builtin: boolean }
  /** `full`: hooks were run; `manifest`: manifest, code and config schema only. */
  level: 'full' | 'manifest'
  /** No check failed (warnings and skips do not fail the suite). */
  ok: boolean
  counts: Record<CheckStatus, number>
  checks: CheckResult[]
  dlq: DlqMarker[]
}

export interface ConformanceOptions {
  /** The plugin's config, before defaults. Default: `config.examples[0]` of its manifest, else `{}`. */
  config?: JsonObject
  /** Records given to a transform or sink. Default: a small built-in sample. */
  records?: JsonObject[]
  /** `manifest` runs no hook: for plugins that need a server (ClickHouse, a broker, a database). */
  level?: 'full' | 'manifest'
  /** Longest a hook may take (default 10 s). */
  timeoutMs?: number
  /** Base of relative paths in the config (default: the working directory). */
  baseDir?: string
  /** Where the plugin's own log lines go (they are always kept for the report). */
  logger?: Logger
}
