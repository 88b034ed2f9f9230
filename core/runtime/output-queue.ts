import type { CompiledExpression, JsonObject, SinkBatching, SinkWriter } from '../plugin-api.js'
import type { StageSpec } from '../pipeline/types.js'
import { DEFAULT_BATCHING } from './sink-buffer.js'

/** An output of a stateful group on its way to a sink: its id, and the input it came after. */
export interface QueuedOutput {
  record: JsonObject
  id: string
  /** Stream sequence of the input that produced it (or the last input before a tick or finish). */
  seq: number
  size: number
  /** The input's `Trib-Event-Time`, carried to the next hop for outputs of one input. */
  eventTime?: string
}

/**
 * Records waiting for one sink of a stateful group. Unlike a stateless group's buffer it tracks
 * no inputs: a stateful group acks only after a save, and it flushes every queue before saving.
 */
export class OutputQueue {
  items: QueuedOutput[] = []
  bytes = 0
  firstAt = 0
  readonly batching: SinkBatching

  constructor(
    readonly spec: StageSpec,
    readonly writer: SinkWriter,
    readonly where: CompiledExpression | undefined,
  ) {
    this.batching = writer.batching ?? DEFAULT_BATCHING
  }

  add(o: QueuedOutput): void {
    if (this.items.length === 0) this.firstAt = Date.now()
    this.items.push(o)
    this.bytes += o.size
  }

  get empty(): boolean {
    return this.items.length === 0
  }

  /** Full by rows or bytes: written at once, before the next save. */
  get full(): boolean {
    return this.items.length >= this.batching.rows || this.bytes >= this.batching.bytes
  }

  /** The oldest record has waited the sink's `maxWaitMs`. */
  due(now: number): boolean {
    return !this.empty && now - this.firstAt >= this.batching.maxWaitMs
  }

  take(): QueuedOutput[] {
    const out = this.items
    this.items = []
    this.bytes = 0
    return out
  }

  clear(): void {
    this.take()
  }
}
