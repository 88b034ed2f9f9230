import type { JsonValue } from '../plugin-api.js'

/** One outstanding dead record as `dlq list --json` and `dlq show --json` print it. */
export interface DlqEntry {
  /** Stream sequence of the DLQ message: what `dlq show`, `dlq replay --seq` take. */
  seq: number
  stage: string
  plugin: string
  reason: string
  code: string
  tries: number
  /** Subject the record was read from (or published to, for a source): where a redrive goes. */
  originSubject: string
  /** Stream sequence of the input, or the source's offset for a record dead at the source. */
  originSeq: number
  /** When it was dead-lettered (ISO 8601). */
  time: string
  /** Epoch of the pass that dead-lettered it. */
  epoch: number
  /** The record, parsed when it is JSON, else its raw text. */
  record: JsonValue
}

/** An entry plus the bytes a redrive republishes unchanged. */
export interface DeadRecord extends DlqEntry {
  data: Uint8Array
}

export interface RedriveSummary {
  pipeline: string
  /** Epoch the redriven records carry (0 when there was nothing to redrive). */
  epoch: number
  /** DLQ entries that left the list. */
  redriven: number
  /** Messages republished (entries of one input are redriven once). */
  republished: number
  /** Messages republished per target subject. */
  subjects: Record<string, number>
  /** Entries of an interrupted earlier redrive that this one finished first. */
  recovered: number
}
