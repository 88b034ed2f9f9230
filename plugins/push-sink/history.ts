import { DeliverPolicy, DiscardPolicy, RetentionPolicy, StorageType, jetstream, jetstreamManager, type ConsumerMessages, type JetStreamClient, type JsMsg, type JetStreamManager } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/nats-core'
import type { JsonObject, Logger, SinkBatch, SinkWriteResult } from '../../core/plugin-api.js'
import type { PushSettings } from './config.js'
import { entry, type Entry } from './entry.js'

const encoder = new TextEncoder()
const decoder = new TextDecoder()
/** Dropping a repeat of a redelivered batch needs the duplicate window; longer ones cost server memory. */
const DUPLICATE_WINDOW_MS = 2 * 60_000

/** What the history holds now: `messages` records, sequences first..last (`last` is kept when empty). */
export interface HistoryBounds {
  first: number
  last: number
  messages: number
}

/** Reads a range of the history, oldest first, for a client catching up. */
export interface RangeReader {
  /** Up to `max` entries from where the reader stands; fewer (or none) when the history has no more. */
  next(max: number): Promise<Entry[]>
  close(): Promise<void>
}

/**
 * The channel's history: a JetStream stream of its own, one subject, limits retention with the
 * oldest deleted first. Its sequence numbers are the channel's event ids. The sink appends each
 * batch and is acknowledged only once it is stored; clients are fed by reading it back (`follow`),
 * so what a client sees and what it can resume are the same sequence.
 */
export class History {
  /** Highest sequence this process stored (its own appends): a close waits until clients were offered it. */
  stored = 0

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly s: PushSettings['history'],
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {}

  static async open(nc: NatsConnection, s: PushSettings['history'], timeoutMs: number, logger: Logger): Promise<History> {
    const jsm = await jetstreamManager(nc)
    const limits = {
      max_age: s.maxAgeMs * 1_000_000,
      max_msgs: s.maxMessages,
      max_bytes: s.maxBytes,
      num_replicas: s.replicas,
      duplicate_window: Math.min(DUPLICATE_WINDOW_MS, s.maxAgeMs || DUPLICATE_WINDOW_MS) * 1_000_000,
    }
    const existing = await jsm.streams.info(s.stream).catch(() => undefined)
    if (!existing) {
      await jsm.streams.add({ name: s.stream, subjects: [s.subject], retention: RetentionPolicy.Limits, discard: DiscardPolicy.Old, storage: StorageType.File, ...limits })
    } else if (existing.config.max_age !== limits.max_age || existing.config.max_msgs !== limits.max_msgs || existing.config.max_bytes !== limits.max_bytes || existing.config.num_replicas !== limits.num_replicas) {
      // New limits in the config apply to the existing history (an update keeps its records).
      await jsm.streams.update(s.stream, { ...existing.config, ...limits })
    }
    return new History(nc, jetstream(nc, { timeout: timeoutMs }), jsm, s, timeoutMs, logger)
  }

  get stream(): string {
    return this.s.stream
  }

  async bounds(): Promise<HistoryBounds> {
    const st = (await this.jsm.streams.info(this.s.stream)).state
    return { first: st.first_seq, last: st.last_seq, messages: st.messages }
  }

  /**
   * Stores a batch, every publish in flight at once. The record id is the message id, so a
   * redelivered batch is dropped as a duplicate within the duplicate window (2 min).
   */
  async append(batch: SinkBatch): Promise<SinkWriteResult | undefined> {
    const rejected: { index: number; reason: string }[] = []
    const maxPayload = this.nc.info?.max_payload ?? Infinity
    const acks: Promise<{ seq: number }>[] = []
    for (let i = 0; i < batch.records.length; i++) {
      const data = encoder.encode(JSON.stringify(batch.records[i]))
      if (data.length > maxPayload) {
        rejected.push({ index: i, reason: `record is ${data.length} bytes, above the server's max_payload (${maxPayload})` })
        continue
      }
      acks.push(this.js.publish(this.s.subject, data, { msgID: batch.ids[i]!, expect: { streamName: this.s.stream }, timeout: this.timeoutMs }))
    }
    const results = await Promise.allSettled(acks)
    for (const r of results) if (r.status === 'fulfilled' && r.value.seq > this.stored) this.stored = r.value.seq
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    // The runtime retries the batch; what was stored is dropped as a duplicate then.
    if (failed) throw new Error(`push history ${this.s.stream}: storing the batch failed: ${(failed.reason as Error).message}`)
    return rejected.length ? { rejected } : undefined
  }

  /** Feeds every entry from `fromSeq` on, in order, to `onEntry` until stopped (an ordered consumer recovers on its own). */
  async follow(fromSeq: number, onEntry: (e: Entry) => void): Promise<{ stop(): Promise<void> }> {
    const consumer = await this.js.consumers.get(this.s.stream, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: Math.max(1, fromSeq) })
    const msgs: ConsumerMessages = await consumer.consume({ max_messages: 1000 })
    const loop = (async () => {
      for await (const m of msgs) {
        const e = this.decode(m)
        if (e) onEntry(e)
      }
    })().catch((err: unknown) => this.logger.error({ stream: this.s.stream, err: (err as Error).message }, 'push history: reading stopped'))
    return {
      stop: async () => {
        msgs.stop()
        await loop
        await consumer.delete().catch(() => undefined)
      },
    }
  }

  /** A reader of the history from `fromSeq` on (records deleted by retention are skipped: the caller sees the gap in the sequences). */
  async range(fromSeq: number): Promise<RangeReader> {
    const consumer = await this.js.consumers.get(this.s.stream, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: Math.max(1, fromSeq) })
    return {
      next: async (max) => {
        const out: Entry[] = []
        for await (const m of await consumer.fetch({ max_messages: max, expires: 2000 })) {
          const e = this.decode(m)
          if (e) out.push(e)
          // Nothing more stored now: do not wait for the fetch to expire.
          if (m.info.pending === 0) break
        }
        return out
      },
      close: async () => {
        await consumer.delete().catch(() => undefined)
      },
    }
  }

  private decode(m: JsMsg): Entry | undefined {
    const json = decoder.decode(m.data)
    try {
      return entry(m.seq, json, JSON.parse(json) as JsonObject)
    } catch {
      this.logger.warn({ stream: this.s.stream, seq: m.seq }, 'push history: a message is not JSON; skipped')
      return undefined
    }
  }
}
