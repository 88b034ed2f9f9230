import type { ReplayProgress } from './progress.js'

export interface ReplayOptions {
  home: string
  nats?: string
  env?: NodeJS.ProcessEnv
  /** First stream sequence to reprocess (default: the oldest retained). */
  fromSeq?: number
  /** Reprocess what was stored at or after this time (resolved to a sequence first). */
  since?: Date
  /** Write the ClickHouse sinks into this new table, created like theirs. */
  intoTable?: string
  /** With intoTable: exchange the tables once the replay has caught up. */
  swap?: boolean
  onProgress?(p: ReplayProgress): void
  progressEveryMs?: number
  /** First SIGINT/SIGTERM drains (no swap), a second exits at once. */
  handleSignals?: boolean
}

export interface ReplayResult {
  pipeline: string
  /** The epoch the reprocessed records carry (0 when there was nothing to replay). */
  epoch: number
  /** Replayed stream sequences on the source subject (0 and 0 when there was nothing). */
  fromSeq: number
  toSeq: number
  /** Inputs reprocessed. */
  records: number
  /** Redrive copies left out because their original was reprocessed. */
  skipped: number
  /** Records that went to the dead-letter queue during the replay. */
  dead: number
  /** Every input up to the end was processed (false after a signal). */
  completed: boolean
  /** Sinks not run (--into-table runs only the ClickHouse sinks). */
  skippedSinks: string[]
  table?: { original: string; into: string; swapped?: 'exchange' | 'rename' }
}
