import type { ConsumerInfo, JsMsg } from '@nats-io/jetstream'
import { headers } from '@nats-io/nats-core'
import { isRejection, type JsonObject, type SinkWriter, type TransformProcessor, type TransformResult } from '../plugin-api.js'
import type { StageSpec } from '../pipeline/types.js'
import type { JetStreamPublisher, OutMessage } from '../jetstream/publisher.js'
import type { BatchFetcher } from '../jetstream/consumer.js'
import type { StageGroup } from './topology.js'
import type { Logger } from '../log/logger.js'
import { TributaryError, errorMessage } from '../errors.js'
import { H, headerOf } from '../jetstream/headers.js'
import { deliveryCount, streamSeq } from '../jetstream/reply-subject.js'
import { messageId, messageIdAfter, messageIdPrefix } from '../jetstream/names.js'
import { celCompiler } from '../expr/cel.js'
import { deadLetterMessage } from './dlq.js'
import { SinkBuffer } from './sink-buffer.js'
import { callHook } from './plugin-driver.js'
import { backoffDelay, sleep } from './backoff.js'
import type { RuntimeMetrics, StageMeter } from '../metrics/types.js'
import { noMeter } from '../metrics/noop.js'
import { AckClock } from '../metrics/ack-clock.js'
import { isStageStopped } from '../isolation/stage-stopped.js'
import type { SubjectRoute } from '../partitions/route.js'
import { RecoveringFetcher } from './recovering-fetcher.js'
import { WedgeDetector } from './wedge-detector.js'
import { DeliveryOrder } from './delivery-order.js'

export interface GroupStats {
  in: number
  out: number
  dead: number
  acked: number
}

export interface GroupDeps {
  pipeline: string
  epoch: number
  publisher: JetStreamPublisher
  fetcher: BatchFetcher
  logger: Logger
  signal: AbortSignal
  /** Write attempts before the group gives up and stops (inputs stay unacked: nothing lost). */
  maxWriteAttempts?: number
  /** Deliveries of an input that keeps failing in a transform before it goes to the DLQ. */
  maxDeliver: number
  /** The consumer's ack wait: held inputs get in-progress acks while a write is retried. */
  ackWaitMs: number
  /**
   * The durable has ack policy all and this group is its only reader (a `run` under its run
   * lease, a replay's own consumer):
   * one ack per write settles every input before it, and failed inputs are retried in process
   * instead of nak'd (DESIGN: never on a shared durable).
   */
  ackAll?: boolean
  /**
   * With `ackAll`, on a durable this process may move (a `run`): deliveries must come in order
   * (core/runtime/delivery-order.ts). When they do not (a delivery lost with a connection or a
   * server restart, which the next ack would settle unseen), what came before is written and
   * acked, the out-of-order batch is left, and `reposition` recreates the durable after the last
   * input taken and returns a fetcher on it. `delivered`/`afterSeq`: where the durable is now.
   */
  inOrder?: { delivered: number; afterSeq: number; reposition(afterSeq: number): Promise<BatchFetcher> }
  /** Inputs up to this stream sequence may have been processed under the durable's previous ack policy: they count as redelivered. */
  redeliveredThrough?: number
  /** Replay: sink idempotency keys carry this epoch, so reprocessed records are not taken for the first pass. */
  idEpoch?: number
  /** The fetcher hands over first deliveries only (it checks the order itself: a replay's bounded fetcher). */
  firstDeliveries?: boolean
  /** Per-stage metrics, reported per batch (absent: not measured). */
  metrics?: RuntimeMetrics
  /** The next group is split into key partitions: each output goes to its partition's subject. */
  route?: SubjectRoute
  /**
   * Recovers a wedged fetch loop: when fetches bring nothing while the durable has messages for
   * us, `fetcher` is replaced by `open()` (core/runtime/wedge-detector.ts); the durable stays.
   * Absent: no recovery (a replay's bounded fetcher).
   */
  refetch?: { open(): BatchFetcher; info(): Promise<ConsumerInfo | undefined>; periodMs: number }
}

interface Output {
  record: JsonObject
  origin: JsMsg
  /** The origin was delivered before (read once per input, from its reply subject). */
  redelivered: boolean
  /** Index of this output among the outputs of its input (split → several). */
  index: number
  size: number
  /** The JSON text the record was parsed from, while the record is exactly that (no transforms in the group). */
  text?: string
}

const decoder = new TextDecoder()
const encoder = new TextEncoder()

/**
 * Runs one consuming group: fetch a batch, run the fused transforms over it, hand outputs to
 * each sink's buffer (or publish them for the next group), flush sinks by rows, bytes, wait or
 * held inputs, and ack inputs only once all their outputs are durable.
 */
export class GroupRunner {
  readonly stats: GroupStats = { in: 0, out: 0, dead: 0, acked: 0 }
  private readonly held: JsMsg[] = []
  /** When each held input arrived (or was last told to wait), aligned with `held`. */
  private readonly heldAt: number[] = []
  private heldBase = 1
  private processed = 0
  private readonly sinks: SinkBuffer[]
  private readonly maxHeld: number
  /** Inputs to redeliver later (nak with this delay) instead of acking: a transform failed on them. */
  private readonly naks = new Map<JsMsg, number>()
  private readonly failures = new Map<JsMsg, string>()
  private readonly ackClock: AckClock
  private writeFailure: { err: unknown } | undefined
  private fetcher: BatchFetcher
  private readonly order: DeliveryOrder | undefined
  private stopRequested: { now?: boolean } | undefined
  /** When each input nak'd with a delay comes back: until then the server counts it as ours. */
  private nakUntil: number[] = []
  /** Inputs are known to be first deliveries (checked in order here or by the fetcher). */
  private readonly firstDeliveries: boolean
  /** A replay's record ids start with this (deps.idEpoch). */
  private readonly replayIdPrefix: string | undefined

  constructor(
    readonly group: StageGroup,
    private readonly transforms: { spec: StageSpec; proc: TransformProcessor }[],
    sinks: { spec: StageSpec; writer: SinkWriter }[],
    private readonly deps: GroupDeps,
  ) {
    this.sinks = sinks.map((s) => new SinkBuffer(s.spec, s.writer, s.spec.where ? celCompiler.compile(s.spec.where) : undefined))
    // Flush on inputs held as well as rows buffered, or the consumer stops delivering (FACTS).
    this.maxHeld = Math.max(1000, 2 * Math.max(0, ...this.sinks.map((s) => s.batching.rows)))
    this.ackClock = new AckClock(this.meter(group.id))
    this.fetcher = this.recovering(deps.fetcher)
    this.order = deps.inOrder && new DeliveryOrder(deps.inOrder.delivered, deps.inOrder.afterSeq)
    this.firstDeliveries = this.order !== undefined || deps.firstDeliveries === true
    this.replayIdPrefix = deps.idEpoch === undefined ? undefined : messageIdPrefix(deps.pipeline, group.id, deps.idEpoch)
  }

  /** `fetcher` replaced when found wedged (with `deps.refetch`). */
  private recovering(fetcher: BatchFetcher): BatchFetcher {
    const r = this.deps.refetch
    return !r
      ? fetcher
      : new RecoveringFetcher(fetcher, {
          consumer: this.group.consumer,
          open: r.open,
          periodMs: r.periodMs,
          logger: this.deps.logger,
          detector: new WedgeDetector({ periodMs: r.periodMs, info: r.info, held: () => this.unsettled() }),
          onRestart: () => this.meter(this.group.id).consumerRestarted(),
        })
  }

  /** Inputs the durable counts as delivered to this group and not yet settled. */
  private unsettled(): number {
    const now = Date.now()
    if (this.nakUntil.length > 0) this.nakUntil = this.nakUntil.filter((t) => t > now)
    return this.held.length + this.nakUntil.length
  }

  private meter(stageId: string): StageMeter {
    return this.deps.metrics?.stage(stageId) ?? noMeter
  }

  /** What the durable's max_ack_pending must exceed: the inputs this group may hold unacked. */
  static maxAckPendingFor(maxRows: number, fetchBatch: number): number {
    return Math.max(1000, 2 * maxRows) + 3 * fetchBatch
  }

  get idle(): boolean {
    return this.held.length === 0
  }

  get consumer(): string {
    return this.group.consumer
  }

  /** Stop after what has been fetched is processed, flushed and acked (drain). `now`: see BatchFetcher.stop. */
  requestStop(opts?: { now?: boolean }): void {
    this.stopRequested = { ...this.stopRequested, ...opts }
    this.fetcher.stop(opts)
  }

  /**
   * Runs a transform over the batch. When it throws, each record is tried alone so one bad
   * record does not fail its neighbours; the inputs whose records fail are redelivered later
   * (nak with back-off) and go to the DLQ after `maxDeliver` deliveries.
   */
  private async runTransform(t: { spec: StageSpec; proc: TransformProcessor }, records: JsonObject[], outs: Output[], failed: Set<JsMsg>): Promise<TransformResult[]> {
    const check = (results: TransformResult[], n: number): TransformResult[] => {
      if (!Array.isArray(results) || results.length !== n) {
        throw new TributaryError('E_PLUGIN', `plugin "${t.spec.use}" (transform, stage ${t.spec.id}) returned ${Array.isArray(results) ? results.length : typeof results} results for ${n} records`, {
          hint: 'process() must return exactly one result per input record (a record, an array, null, or reject())',
        })
      }
      return results
    }
    try {
      return check(await callHook(t.spec, 'process', () => t.proc.process(records)), records.length)
    } catch (err) {
      if (err instanceof TributaryError && err.code === 'E_PLUGIN' && err.message.includes('results for')) throw err
      if (isStageStopped(err)) throw err
      this.meter(t.spec.id).error(err)
      this.deps.logger.warn({ stage: t.spec.id, records: records.length, err: errorMessage(err) }, 'transform failed on a batch; isolating the failing records')
      const results: TransformResult[] = new Array(records.length).fill(null)
      for (let i = 0; i < records.length; i++) {
        if (failed.has(outs[i]!.origin)) continue
        try {
          results[i] = check(await callHook(t.spec, 'process', () => t.proc.process([records[i]!])), 1)[0]!
        } catch (e) {
          if (isStageStopped(e)) throw e
          this.meter(t.spec.id).error(e)
          failed.add(outs[i]!.origin)
          this.failures.set(outs[i]!.origin, errorMessage(e))
        }
      }
      return results
    }
  }

  async run(): Promise<void> {
    const keepalive = setInterval(() => this.keepHeldAlive(), Math.max(500, Math.floor(this.deps.ackWaitMs / 4)))
    try {
      await this.loop()
    } finally {
      clearInterval(keepalive)
    }
  }

  /**
   * Inputs held past a third of ack_wait (a slow insert, a long outage, a starved process) get
   * an in-progress ack, so JetStream does not hand them to another process sharing the durable
   * while this one will still write them: two writers of one input would duplicate its rows.
   * Oldest first, and only those: in normal flow inputs are acked long before.
   */
  private keepHeldAlive(): void {
    const now = Date.now()
    const cutoff = now - this.deps.ackWaitMs / 3
    for (let i = 0; i < this.held.length && this.heldAt[i]! < cutoff; i++) {
      this.held[i]!.working()
      this.heldAt[i] = now
    }
  }

  private async loop(): Promise<void> {
    let nextBatch: Promise<JsMsg[] | undefined> | undefined
    for (;;) {
      this.throwIfWriteFailed()
      nextBatch ??= this.fetcher.next()
      const wait = Math.min(...this.sinks.map((s) => s.msUntilDue(Date.now())))
      const writing = this.sinks.flatMap((s) => (s.writing ? [s.writing.then(() => 'written' as const)] : []))
      let got: JsMsg[] | undefined | 'timer' | 'written'
      if (wait === Infinity && writing.length === 0) got = await nextBatch
      else {
        // The timer is cleared once the race is decided, so a drained process can exit at once.
        // (A plain timer: an AbortController per batch costs a DOMException each time.)
        let timer: NodeJS.Timeout | undefined
        const waits: Promise<JsMsg[] | undefined | 'timer' | 'written'>[] = [nextBatch, ...writing]
        if (wait !== Infinity) waits.push(new Promise<'timer'>((resolve) => (timer = setTimeout(resolve, wait, 'timer'))))
        got = await Promise.race(waits)
        clearTimeout(timer)
      }
      if (got === 'timer' || got === 'written') {
        this.throwIfWriteFailed()
        await this.flushDue(false)
        continue
      }
      nextBatch = undefined
      if (got === undefined) break // fetcher stopped: drain
      if (got.length > 0) {
        if (this.order && !this.order.accept(got)) {
          await this.repositionAfterBreak()
          continue
        }
        await this.processBatch(got)
      }
      // An empty fetch means nothing is arriving now: write what waits rather than idle on it.
      await this.flushDue(got.length === 0)
    }
    await this.flushDue(true)
  }

  /**
   * The deliveries stopped coming in order: everything held came before the break, so it is
   * written and settled by one ack; then the durable is recreated after the last input taken and
   * read on from there (the inputs after it come again, the lost one among them). While draining
   * the durable is left as it is: what it did not settle is handed over at the next start.
   */
  private async repositionAfterBreak(): Promise<void> {
    await this.flushDue(true)
    const after = this.order!.through
    this.meter(this.group.id).consumerRestarted()
    if (this.stopRequested) {
      this.deps.logger.warn({ consumer: this.group.consumer, after }, 'a delivery was lost or repeated while draining: the inputs after it are left for the next start')
      return
    }
    this.deps.logger.warn({ consumer: this.group.consumer, after }, 'a delivery was lost or repeated (a connection cut, a server restart): what came before is written and acked; the consumer reads on after it')
    this.fetcher.stop({ now: true })
    this.fetcher = this.recovering(await this.deps.inOrder!.reposition(after))
    this.order!.reset(after)
    if (this.stopRequested) this.fetcher.stop(this.stopRequested)
  }

  private async processBatch(msgs: JsMsg[]): Promise<void> {
    const dead: OutMessage[] = []
    let records: JsonObject[] = []
    let outs: Output[] = []
    this.ackClock.arrived(msgs.length)
    const now = Date.now()
    for (const m of msgs) {
      this.held.push(m)
      this.heldAt.push(now)
      const data = m.data // a getter that slices the raw buffer on every read
      const text = decoder.decode(data)
      let v: unknown
      try {
        v = JSON.parse(text)
      } catch (err) {
        dead.push(this.deadLetter(m, this.group.transforms[0] ?? this.group.sinks[0]!, `not valid JSON: ${errorMessage(err)}`, 'E_RECORD'))
        continue
      }
      if (typeof v !== 'object' || v === null || Array.isArray(v)) {
        dead.push(this.deadLetter(m, this.group.transforms[0] ?? this.group.sinks[0]!, 'a record must be a JSON object', 'E_RECORD'))
        continue
      }
      records.push(v as JsonObject)
      const again = this.firstDeliveries ? false : deliveryCount(m) > 1
      outs.push({ record: v as JsonObject, origin: m, redelivered: again || this.processedBefore(m), index: 0, size: data.length, text: this.transforms.length === 0 ? text : undefined })
    }
    this.stats.in += msgs.length

    const failed = new Set<JsMsg>()
    outs = await this.runChain(records, outs, failed, dead)
    // Single owner under ack policy all: a nak would be settled by the next ack, so retry here.
    if (failed.size && this.deps.ackAll) outs.push(...(await this.retryInProcess(failed, dead)))
    for (const m of failed) {
      if (m.info.deliveryCount >= this.deps.maxDeliver) {
        dead.push(this.deadLetter(m, this.group.transforms[0]!, this.failures.get(m) ?? 'failed', 'E_MAX_DELIVER'))
      } else {
        this.naks.set(m, backoffDelay(m.info.deliveryCount - 1, 1000))
      }
      this.failures.delete(m)
    }

    if (this.group.outputSubject) {
      const out = outs.map((o) => this.outputMessage(o))
      await this.deps.publisher.publishBatch(out)
    }
    for (const s of this.sinks) {
      const before = s.records.length
      for (const o of outs) {
        if (s.where) {
          let pass: boolean
          try {
            pass = s.where.test(o.record)
          } catch (err) {
            dead.push(this.deadLetter(o.origin, s.spec, errorMessage(err), 'E_EXPR', o.index))
            continue
          }
          if (!pass) continue
        }
        s.add(o.record, this.recordId(o), o.origin, o.size, o.redelivered, o.text)
      }
      this.meter(s.spec.id).count(s.records.length - before, 0)
    }
    if (dead.length) await this.deps.publisher.publishBatch(dead)
    this.stats.dead += dead.length
    this.stats.out += outs.length
    this.processed += msgs.length
    for (const s of this.sinks) if (s.settled) s.covered = this.processed
  }

  private processedBefore(m: JsMsg): boolean {
    const through = this.deps.redeliveredThrough
    return through !== undefined && through > 0 && streamSeq(m) <= through
  }

  /** The fused transforms over a batch; inputs whose records fail land in `failed`, their outputs left out. */
  private async runChain(records: JsonObject[], outs: Output[], failed: Set<JsMsg>, dead: OutMessage[]): Promise<Output[]> {
    for (const t of this.transforms) {
      if (records.length === 0) break
      const started = performance.now()
      const results = await this.runTransform(t, records, outs, failed)
      const seconds = (performance.now() - started) / 1000
      const nextRecords: JsonObject[] = []
      const nextOuts: Output[] = []
      for (let i = 0; i < results.length; i++) {
        const r = results[i]
        const o = outs[i]!
        if (r === null || r === undefined || failed.has(o.origin)) continue
        if (isRejection(r)) {
          dead.push(this.deadLetter(o.origin, t.spec, r.reason, 'E_REJECTED', o.index))
          continue
        }
        if (Array.isArray(r)) {
          r.forEach((rec, j) => {
            nextRecords.push(rec)
            nextOuts.push({ record: rec, origin: o.origin, redelivered: o.redelivered, index: o.index * 1000 + j, size: o.size })
          })
        } else {
          // One record out of one: the output entry is reused (one allocation less per record and stage).
          o.record = r
          nextRecords.push(r)
          nextOuts.push(o)
        }
      }
      this.meter(t.spec.id).batch(records.length, nextRecords.length, seconds)
      records = nextRecords
      outs = nextOuts
    }
    return failed.size ? outs.filter((o) => !failed.has(o.origin)) : outs
  }

  /**
   * Ack policy all (`deps.ackAll`): the inputs a transform failed on are tried again in this
   * process, with the same back-off a nak would get, up to `maxDeliver` tries in all; then they
   * go to the DLQ. The group waits meanwhile: later inputs are not acknowledged past them.
   */
  private async retryInProcess(failed: Set<JsMsg>, dead: OutMessage[]): Promise<Output[]> {
    const out: Output[] = []
    let pending = [...failed]
    failed.clear()
    for (let attempt = 1; pending.length > 0 && attempt < this.deps.maxDeliver; attempt++) {
      await sleep(backoffDelay(attempt - 1, 1000), this.deps.signal) // resolves at once on a drain: the tries go on without pause
      const again = new Set<JsMsg>()
      const records = pending.map((m) => JSON.parse(decoder.decode(m.data)) as JsonObject)
      const outs = pending.map((m, i): Output => ({ record: records[i]!, origin: m, redelivered: false, index: 0, size: m.data.length }))
      out.push(...(await this.runChain(records, outs, again, dead)))
      for (const m of pending) if (!again.has(m)) this.failures.delete(m)
      pending = [...again]
    }
    for (const m of pending) {
      dead.push(this.deadLetter(m, this.group.transforms[0]!, this.failures.get(m) ?? 'failed', 'E_MAX_DELIVER', undefined, this.deps.maxDeliver))
      this.failures.delete(m)
    }
    return out
  }

  /**
   * Starts the writes that are due. A write runs while the next batches are fetched and
   * transformed (the insert and the parsing overlap); a sink has one write at a time, and waits
   * for it only when everything must be written (`all`: drain, or nothing arriving) or too many
   * inputs are held.
   */
  private async flushDue(all: boolean): Promise<void> {
    const now = Date.now()
    const tooManyHeld = this.held.length >= this.maxHeld
    for (const s of this.sinks) {
      if (s.writing && (all || tooManyHeld)) await s.writing
      this.throwIfWriteFailed()
      if (!s.empty && !s.writing && (all || tooManyHeld || s.due(now))) {
        const write = this.flush(s).then(
          () => this.ackCovered(),
          (err: unknown) => void (this.writeFailure ??= { err }),
        )
        s.writing = write.finally(() => (s.writing = undefined))
        if (all || tooManyHeld) await s.writing
      }
    }
    this.throwIfWriteFailed()
    this.ackCovered()
  }

  /** A write that failed for good stops the group (its inputs stay unacked: nothing lost). */
  private throwIfWriteFailed(): void {
    if (this.writeFailure) throw this.writeFailure.err
  }

  private async flush(s: SinkBuffer): Promise<void> {
    const coveredAfter = this.processed
    const batch = s.take()
    const maxAttempts = this.deps.maxWriteAttempts ?? 8
    for (let attempt = 0; ; attempt++) {
      try {
        const started = performance.now()
        // A retry may follow an attempt that was stored but not answered (the server died after the
        // commit): the sink must check what is already there, as for redelivered inputs.
        const redelivered = batch.redelivered || attempt > 0
        const res = await callHook(s.spec, 'write', () => s.writer.write({ records: batch.records, ids: batch.ids, redelivered, json: batch.json }))
        this.meter(s.spec.id).written(batch.records.length - (res?.rejected?.length ?? 0), (performance.now() - started) / 1000)
        if (res?.rejected?.length) {
          const dead = res.rejected.map((r) => this.deadLetter(batch.origins[r.index]!, s.spec, r.reason, 'E_REJECTED'))
          await this.deps.publisher.publishBatch(dead)
          this.stats.dead += dead.length
        }
        break
      } catch (err) {
        this.meter(s.spec.id).error(err)
        // Unreachable peers (ClickHouse down, NATS gone) are waited out; other errors get a few tries.
        const transient = (err as { code?: string }).code === 'E_NOT_CONNECTED' || (err as { unavailable?: boolean }).unavailable === true
        if ((!transient && attempt + 1 >= maxAttempts) || this.deps.signal.aborted || isStageStopped(err)) throw err
        const delay = backoffDelay(attempt)
        this.deps.logger.warn({ stage: s.spec.id, attempt: attempt + 1, retryInMs: delay, err: errorMessage(err) }, 'sink write failed; retrying')
        await sleep(delay, this.deps.signal)
      }
    }
    s.covered = coveredAfter
  }

  /** Acks every held input whose outputs every sink has written; acks are sent, not awaited. */
  private ackCovered(): void {
    let upTo = this.processed
    for (const s of this.sinks) upTo = Math.min(upTo, s.settled ? this.processed : s.covered)
    // One splice per flush: shift() per message is quadratic on 20k held inputs.
    const n = Math.min(this.held.length, upTo - this.heldBase + 1)
    if (n <= 0) return
    if (this.deps.ackAll) this.held[n - 1]!.ack() // settles every input up to it
    else {
      for (let i = 0; i < n; i++) {
        const m = this.held[i]!
        const delay = this.naks.get(m)
        if (delay === undefined) m.ack()
        else {
          this.naks.delete(m)
          m.nak(delay)
          this.nakUntil.push(Date.now() + delay)
        }
      }
    }
    this.held.splice(0, n)
    this.heldAt.splice(0, n)
    this.heldBase += n
    this.stats.acked += n
    this.ackClock.acked(n)
  }

  private outputMessage(o: Output): OutMessage {
    const h = headers()
    h.set(H.msgId, messageId(this.deps.pipeline, this.group.id, this.deps.epoch, streamSeq(o.origin), o.index))
    // Event time is record metadata: it follows the record across hops (a window downstream reads it).
    const et = headerOf(o.origin, H.eventTime)
    if (et) h.set(H.eventTime, et)
    return { subject: this.deps.route ? this.deps.route(o.record) : this.group.outputSubject!, data: encoder.encode(JSON.stringify(o.record)), headers: h }
  }

  /** A replay keys records by its own epoch and the input's stream sequence (unique, unlike re-read source offsets). */
  private recordId(o: Output): string {
    return this.replayIdPrefix === undefined ? recordId(o) : messageIdAfter(this.replayIdPrefix, streamSeq(o.origin), o.index)
  }

  private deadLetter(m: JsMsg, stage: StageSpec, reason: string, code: string, index?: number, tries = m.info.deliveryCount): OutMessage {
    this.meter(stage.id).dead(1)
    return deadLetterMessage(this.deps.pipeline, this.deps.epoch, {
      data: m.data,
      stage: stage.id,
      plugin: stage.use,
      reason,
      code,
      tries,
      originSubject: m.subject,
      originSeq: m.seq,
      index,
    })
  }
}

/** The idempotency key of a record: its origin message id, plus its index when one input gave several. */
function recordId(o: Output): string {
  const id = headerOf(o.origin, H.msgId) || `seq:${o.origin.seq}`
  return o.index === 0 ? id : `${id}/${o.index}`
}
