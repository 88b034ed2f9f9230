import type { JsMsg } from '@nats-io/jetstream'
import type { CompiledExpression, JsonObject, SinkBatching, SinkWriter } from '../plugin-api.js'
import type { StageSpec } from '../pipeline/types.js'

export const DEFAULT_BATCHING: SinkBatching = { rows: 1000, bytes: 1 << 20, maxWaitMs: 200 }

/**
 * Records waiting for one sink of a fused group. Inputs are acknowledged only once every sink
 * has durably written what they produced: `covered` is the ordinal of the last input whose
 * records this sink has written (or that gave it none).
 */
export class SinkBuffer {
  records: JsonObject[] = []
  ids: string[] = []
  origins: JsMsg[] = []
  /** Each record's own JSON text while every record added has one (see SinkBatch.json). */
  json: string[] | undefined = []
  bytes = 0
  firstAt = 0
  /** Some inputs in the buffer were delivered before: the sink must check what is already written. */
  redelivered = false
  covered = 0
  /** The write in progress, if any: one at a time per sink, so writes land in order. */
  writing: Promise<void> | undefined
  readonly batching: SinkBatching

  constructor(
    readonly spec: StageSpec,
    readonly writer: SinkWriter,
    readonly where: CompiledExpression | undefined,
  ) {
    this.batching = writer.batching ?? DEFAULT_BATCHING
  }

  add(record: JsonObject, id: string, origin: JsMsg, size: number, redelivered = false, json?: string): void {
    if (this.records.length === 0) this.firstAt = Date.now()
    if (redelivered) this.redelivered = true
    if (json === undefined) this.json = undefined
    else this.json?.push(json)
    this.records.push(record)
    this.ids.push(id)
    this.origins.push(origin)
    this.bytes += size
  }

  get empty(): boolean {
    return this.records.length === 0
  }

  /** Full by rows or bytes, or its oldest record has waited `maxWaitMs`. */
  due(now: number): boolean {
    if (this.empty) return false
    return this.records.length >= this.batching.rows || this.bytes >= this.batching.bytes || now - this.firstAt >= this.batching.maxWaitMs
  }

  /** Time until the oldest record's wait runs out (Infinity when empty, or while a write is in progress: its end wakes the loop). */
  msUntilDue(now: number): number {
    return this.empty || this.writing ? Infinity : Math.max(0, this.firstAt + this.batching.maxWaitMs - now)
  }

  /** Nothing buffered and nothing being written: every input processed so far is covered. */
  get settled(): boolean {
    return this.records.length === 0 && !this.writing
  }

  /**
   * The batch to write. With redelivered inputs in it, a record id appears once: an input fetched
   * but not yet processed when ack_wait ran out (the sink waited out an outage) comes again, and
   * both deliveries can land in one batch, where a sink checking the table finds neither.
   */
  take(): Batch {
    const all = { records: this.records, ids: this.ids, origins: this.origins, json: this.json }
    const batch = { ...(this.redelivered ? uniqueById(all) : all), redelivered: this.redelivered }
    this.redelivered = false
    this.records = []
    this.ids = []
    this.origins = []
    this.json = []
    this.bytes = 0
    return batch
  }
}

interface Records {
  records: JsonObject[]
  ids: string[]
  origins: JsMsg[]
  json: string[] | undefined
}

type Batch = Records & { redelivered: boolean }

/** Keeps the first record of each id (the others' inputs are still held, and acked with it). */
function uniqueById(b: Records): Records {
  const seen = new Set<string>()
  const out: Records = { records: [], ids: [], origins: [], json: b.json && [] }
  for (let i = 0; i < b.ids.length; i++) {
    const id = b.ids[i]!
    if (seen.has(id)) continue
    seen.add(id)
    out.records.push(b.records[i]!)
    out.ids.push(id)
    out.origins.push(b.origins[i]!)
    out.json?.push(b.json![i]!)
  }
  return out
}
