import { headers } from '@nats-io/nats-core'
import type { JsonObject, SourceBatch, SourceDefinition, SourceItem, JsonValue } from '../plugin-api.js'
import { TributaryError } from '../errors.js'
import type { JetStreamPublisher, OutMessage, PublishResult } from '../jetstream/publisher.js'
import type { StageSpec } from '../pipeline/types.js'
import { H } from '../jetstream/headers.js'
import { messageId } from '../jetstream/names.js'
import { stageState } from '../jetstream/kv-state.js'
import { deadLetterMessage } from './dlq.js'
import { callHook } from './plugin-driver.js'
import { sourceContext, type ContextDeps } from './context.js'
import { backoffDelay, sleep } from './backoff.js'
import type { RuntimeMetrics } from '../metrics/types.js'
import { noMeter } from '../metrics/noop.js'
import type { SubjectRoute } from '../partitions/route.js'
import { clearFinished, readFinished, writeFinished } from './finished-marker.js'
import { untilAborted } from './until-aborted.js'

export interface SourceStats {
  published: number
  duplicates: number
  dead: number
  /** The source reported end of input and everything it read is durably in JetStream. */
  finished: boolean
}

const encoder = new TextEncoder()
const POSITION_KEY = 'position'
/** Batches published and not yet acknowledged: keeps the source reading while acks come back. */
const MAX_BATCHES_IN_FLIGHT = 4
/** What a DLQ entry keeps of a record too large to publish. */
const DLQ_SAMPLE_BYTES = 64 * 1024

/**
 * Reads the source in batches, publishes each with deterministic message ids, and saves the
 * source's checkpoint in KV only once everything up to it is acknowledged by JetStream, so a
 * restart re-reads at most the unacknowledged tail (dropped by the duplicate window).
 */
export async function runSource(
  deps: ContextDeps & { epoch: number; subject: string; publisher: JetStreamPublisher; maxPayload: number; metrics?: RuntimeMetrics; route?: SubjectRoute },
  stage: StageSpec,
  def: SourceDefinition<unknown>,
  stats: SourceStats,
): Promise<void> {
  const meter = deps.metrics?.stage(stage.id) ?? noMeter
  const state = stageState(deps.kv, stage.id)
  const checkpoint = await state.get(POSITION_KEY)
  // A marker left by an earlier run stays while nothing new is read (docs/state.md).
  let finishedMarker = (await readFinished(deps.kv, stage.id)) !== undefined
  const ctx = sourceContext(deps, stage, checkpoint)
  const reader = await callHook(stage, 'open', () => def.open(ctx as never))
  const inflight: { p: Promise<PublishResult>; checkpoint: JsonValue | undefined; n: number; dead: number; batch: SourceBatch; at: number }[] = []
  const settleOldest = async (): Promise<void> => {
    const f = inflight.shift()!
    let r: PublishResult
    try {
      r = await f.p
    } catch (err) {
      meter.error(err)
      const backpressure = err instanceof TributaryError && err.code === 'E_BACKPRESSURE'
      f.batch.settled?.({ ok: false, error: err as Error, backpressure })
      // A push source was told; it keeps running. Anything else stops the source.
      if (backpressure && (f.batch.settled || deps.signal.aborted)) return
      throw err
    }
    f.batch.settled?.({ ok: true })
    stats.published += f.n
    stats.dead += f.dead
    stats.duplicates += r.duplicates
    meter.count(0, f.n)
    meter.dead(f.dead)
    meter.acked(f.n + f.dead, (performance.now() - f.at) / 1000)
    if (f.checkpoint !== undefined) await saveCheckpoint(f.checkpoint)
  }
  // While read() waits for input, settle batches as their acks arrive rather than when the
  // window fills: a push source answers its clients and frees its buffers only on settled().
  const settleWhileReading = async (reading: Promise<unknown>): Promise<void> => {
    const readDone = reading.then(() => true, () => true)
    while (inflight.length > 0) {
      const acked = inflight[0]!.p.then(() => false, () => false)
      if ((await untilAborted(Promise.race([readDone, acked]), deps.signal)) ?? true) return
      await settleOldest()
    }
  }
  // Positions (and the finished marker) are saved until they stick: a NATS restart must not stop the source.
  const retryKv = async (what: string, write: () => Promise<unknown>): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      try {
        await write()
        return
      } catch (err) {
        if (attempt >= 40) throw err
        deps.logger.warn({ stage: stage.id, attempt: attempt + 1, err: (err as Error).message }, `${what} failed; retrying`)
        await sleep(backoffDelay(attempt, 250, 5000))
      }
    }
  }
  const saveCheckpoint = (cp: JsonValue): Promise<void> => retryKv('saving the source position', () => state.put(POSITION_KEY, cp))
  const maxPayload = deps.maxPayload
  const maxRecordBytes = maxPayload - 4096 // room for headers
  let attempt = 0
  try {
    for (;;) {
      if (deps.signal.aborted) break
      let batch
      const readStarted = performance.now()
      const reading = callHook(stage, 'read', () => reader.read())
      reading.catch(() => undefined) // awaited below; a failure must not go unhandled meanwhile
      await settleWhileReading(reading)
      try {
        batch = await untilAborted(reading, deps.signal)
        attempt = 0
      } catch (err) {
        meter.error(err)
        if ((err as { code?: string }).code !== 'E_NOT_CONNECTED') throw err
        deps.logger.warn({ stage: stage.id, err: (err as Error).message }, 'source not connected; retrying')
        await sleep(backoffDelay(attempt++), deps.signal)
        continue
      }
      if (!batch) break
      meter.batch(batch.items.length, 0, (performance.now() - readStarted) / 1000)
      const msgs: OutMessage[] = []
      let dead = 0
      for (const item of batch.items) {
        const msg = item.error === undefined ? recordMessage(deps.spec.name, stage.id, deps.epoch, deps.subject, deps.route, item) : undefined
        if (msg && msg.data.length <= maxRecordBytes) {
          msgs.push(msg)
          continue
        }
        // Unreadable, or larger than the server takes (kept truncated): set aside with the reason.
        const reason = msg
          ? `record of ${msg.data.length} bytes exceeds the NATS server's max_payload (${maxPayload} bytes); raise max_payload in the server config or split the record`
          : item.error!
        dead++
        msgs.push(deadLetterMessage(deps.spec.name, deps.epoch, {
          data: msg ? msg.data.subarray(0, DLQ_SAMPLE_BYTES) : encoder.encode(item.raw ?? ''),
          stage: stage.id,
          plugin: stage.use,
          reason,
          code: 'E_RECORD',
          tries: 1,
          originSubject: deps.subject,
          originSeq: item.offset,
        }))
      }
      if (finishedMarker && msgs.length > 0) {
        // Stages elsewhere must not take the input for finished while these are on their way.
        await retryKv('clearing the finished marker', () => clearFinished(deps.kv, stage.id))
        finishedMarker = false
      }
      inflight.push({ p: deps.publisher.publishBatch(msgs, { failWhenFull: batch.failWhenFull }), checkpoint: batch.checkpoint, n: msgs.length - dead, dead, batch, at: performance.now() })
      // Surface a failed publish early rather than after the window fills.
      inflight[inflight.length - 1]!.p.catch(() => undefined)
      while (inflight.length >= MAX_BATCHES_IN_FLIGHT) await settleOldest()
      if (batch.done) {
        while (inflight.length) await settleOldest()
        if (!finishedMarker) await retryKv('writing the finished marker', () => writeFinished(deps.kv, stage.id))
        finishedMarker = true
        stats.finished = true
        break
      }
    }
    while (inflight.length) await settleOldest()
  } finally {
    await callHook(stage, 'close', () => reader.close?.())
  }
}

/** `route` is set only when the next stage is split into key partitions (it reads each record's key). */
function recordMessage(pipeline: string, stageId: string, epoch: number, subject: string, route: SubjectRoute | undefined, item: SourceItem): OutMessage {
  const h = headers()
  h.set(H.msgId, messageId(pipeline, stageId, epoch, item.offset))
  if (item.eventTime !== undefined) h.set(H.eventTime, String(item.eventTime))
  const text = item.json ?? JSON.stringify(item.value ?? {})
  return { subject: route ? route(asRecord(item, text)) : subject, data: encoder.encode(text), headers: h }
}

/** The record a route looks at: the item's value, else its JSON parsed (a partitioned route reads its key). */
function asRecord(item: SourceItem, text: string): JsonObject {
  let v: unknown = item.value
  if (v === undefined) {
    try {
      v = JSON.parse(text)
    } catch {
      return {} // not JSON: the stage that reads it dead-letters it, from whichever partition
    }
  }
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonObject) : {}
}
