/**
 * Typed errors. Callers branch on `code` (stable) or `instanceof`, never on message text.
 * `message` is one sentence a user can act on; `hint` says how to fix it.
 */
export type ErrorCode =
  | 'E_CONFIG' // a pipeline or manifest failed validation
  | 'E_FILE' // a file could not be read
  | 'E_SECRET' // ${env:..} / ${file:..} reference could not be resolved
  | 'E_PLUGIN' // plugin missing, failed to load, or failed inside a hook
  | 'E_EXPR' // expression failed to compile or evaluate
  | 'E_NATS' // NATS connection / JetStream failure
  | 'E_NATS_SERVER' // local nats-server could not be started or stopped
  | 'E_CLICKHOUSE' // ClickHouse query/insert failure
  | 'E_SCHEMA_MISMATCH' // a table does not match what the sink writes
  | 'E_RECORD' // one record is malformed (goes to the DLQ)
  | 'E_STATE' // KV state is inconsistent
  | 'E_BACKPRESSURE' // the pipeline's stream is full: try again later
  | 'E_LEASE' // a lease was lost (taken over, or not renewed in time)
  | 'E_RUNNING' // the pipeline already runs in another `run` process (its run lease is held)
  | 'E_DURABLE_IN_USE' // a consumer's ack policy must change while other processes still read it
  | 'E_FLEET' // a fleet operation was refused (deploy, stop, remove, worker)
  | 'E_USAGE' // a CLI was called wrongly
  | 'E_TEST_FAILED' // a conformance check or a pipeline test failed (the report says which)
  | 'E_PERMISSION' // an isolated community plugin did something its permissions do not allow
  | 'E_ISOLATION' // community plugins cannot be isolated on this host (no namespaces / bubblewrap)
  | 'E_PLUGIN_CRASHED' // an isolated plugin's process died or hung during a hook (restarted)
  | 'E_STAGE_STOPPED' // a stage whose plugin kept crashing was stopped (the rest of the runtime runs on)
  | 'E_INTERNAL'

export class TributaryError extends Error {
  readonly code: ErrorCode
  readonly hint?: string
  constructor(code: ErrorCode, message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = 'TributaryError'
    this.code = code
    this.hint = opts.hint
  }
}

/** One problem found while validating a file; `path` is a JSON path like `sinks[0].config.table`. */
export interface ValidationIssue {
  file?: string
  line?: number
  column?: number
  path: string
  message: string
  suggestion?: string
}

export class ValidationError extends TributaryError {
  readonly issues: ValidationIssue[]
  constructor(what: string, issues: ValidationIssue[], hint?: string) {
    super('E_CONFIG', `${what} is invalid (${issues.length} ${issues.length === 1 ? 'error' : 'errors'}):\n${issues.map(formatIssue).join('\n')}`, {
      hint: hint ?? 'fix the errors listed above and run `tributary validate` again',
    })
    this.name = 'ValidationError'
    this.issues = issues
  }
}

export function formatIssue(i: ValidationIssue): string {
  const where = [i.file, i.line !== undefined ? String(i.line) : undefined, i.line !== undefined && i.column !== undefined ? String(i.column) : undefined]
    .filter(Boolean)
    .join(':')
  const loc = where ? `${where}: ` : ''
  const path = i.path ? `${i.path}: ` : ''
  const sugg = i.suggestion ? ` (did you mean \`${i.suggestion}\`?)` : ''
  return `  - ${loc}${path}${i.message}${sugg}`
}

/** A record-level failure: the record goes to the DLQ with this reason, the batch continues. */
export class RecordError extends TributaryError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super('E_RECORD', message, opts)
    this.name = 'RecordError'
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
