import type { JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream'
import type { KV } from '@nats-io/kv'
import { headers } from '@nats-io/nats-core'
import { isRejection, outputKey, type JsonObject, type RecordMeta, type SinkWriter, type StatefulTransformProcessor, type TransformProcessor, type TransformResult } from '../plugin-api.js'
import type { StageSpec } from '../pipeline/types.js'
import type { JetStreamPublisher, OutMessage } from '../jetstream/publisher.js'
import type { Logger } from '../log/logger.js'
import type { RuntimeMetrics, StageMeter } from '../metrics/types.js'
import type { GroupInput, StageGroup } from './topology.js'
import type { SubjectRoute } from '../partitions/route.js'
import type { GroupStats } from './group-runner.js'
import type { StageRunner } from './stage-runner.js'
import { TributaryError, errorMessage } from '../errors.js'
import { H } from '../jetstream/headers.js'
import { createBatchFetcher, type BatchFetcher } from '../jetstream/consumer.js'
import { celCompiler } from '../expr/cel.js'
import { noMeter } from '../metrics/noop.js'
import { deadLetterMessage } from './dlq.js'
import { callHook } from './plugin-driver.js'
import { backoffDelay, sleep } from './backoff.js'
import { OutputQueue, type QueuedOutput } from './output-queue.js'
import { StateSnapshots } from './state-snapshot.js'
import { positionDurableWhenReachable } from './stateful-consumer.js'
import { DeliveryOrder } from './delivery-order.js'
import { inputOutputId, keyedMessageId } from './stateful-ids.js'

export interface StatefulDeps {
  pipeline: string
  epoch: number
  stream: string
  js: JetStreamClient
  jsm: JetStreamManager
  kv: KV
  publisher: JetStreamPublisher
  logger: Logger
  signal: AbortSignal
  fetchBatch: number
  ackWaitMs: number
  /** The server's max_payload: a saved state larger than a value is chunked. */
  maxPayload: number
  metrics?: RuntimeMetrics
  /** Write attempts of a non-transient sink error before the group stops (inputs stay unacked). */
  maxWriteAttempts?: number
  /** Save at least this often while inputs flow, ms (default 1000). */
  commitIntervalMs?: number
  /** Inputs processed but not yet covered by a save, at most (default 10000). */
  maxHeld?: number
  /** The durable this runner reads: the group's input, or one key partition of it (default: the group's). */
  input?: GroupInput
  /** The next group is split into key partitions: each output goes to its partition's subject. */
  route?: SubjectRoute
}

const FETCH_EXPIRES_MS = 1000
/** Fetches failing in a row before the durable is recreated from the last save. */
const WEDGED_AFTER_FAILURES = 3
const decoder = new TextDecoder()
const encoder = new TextEncoder()

/** Outputs with no input of their own (tick, finish) are assumed this big for sink batching. */
const LOOSE_SIZE = 256

/**
 * Runs a consuming group whose head is a stateful transform (docs/state.md). One owner reads the
 * input in stream order through a durable positioned after the saved state. After each batch the
 * head's outputs go through the group's stateless transforms to its sinks or output subject; then,
 * every second or so (and when caught up, draining or finishing), a save: write every sink,
 * store the head's snapshot with the last input sequence in one KV value, ack the inputs.
 * A redelivery or a gap in the consumer's delivery sequence means the in-order stream was broken
 * (a fetch lost to a server restart): the group rolls back to its last save and reads on from
 * there, so the state never sees an input twice or out of order.
 */
export class StatefulGroupRunner implements StageRunner {
  readonly stats: GroupStats = { in: 0, out: 0, dead: 0, acked: 0 }
  private readonly head: { spec: StageSpec; proc: StatefulTransformProcessor }
  private readonly rest: { spec: StageSpec; proc: TransformProcessor }[]
  private readonly queues: OutputQueue[]
  private readonly snapshots: StateSnapshots
  private readonly maxHeld: number
  private readonly commitIntervalMs: number
  private fetcher: BatchFetcher | undefined
  private streamCreated: string | undefined
  /** Inputs processed since the last save (ack policy all: the last one settles them all). */
  private held: JsMsg[] = []
  private heldSince = 0
  private processedSeq = 0
  private committedSeq = 0
  /** The state as last saved (or as opened), for rolling back without reading KV. */
  private committedState = 'null'
  /** Deliveries must continue the stream in order (a gap or a repeat: roll back). */
  private readonly order = new DeliveryOrder()
  private dirty = false
  private caughtUp = false
  private lastCommit = Date.now()
  private stopping: 'no' | 'drain' | 'complete' = 'no'
  /** After a rollback while completing: stop at the next empty fetch, once caught up again. */
  private stopWhenCaughtUp = false
  /** Numbers outputs of tick/finish that carry no key (their ids then hold only within one run). */
  private looseIndex = 0
  /** The consumer stopped answering (fetches failing in a row): recreate it from the last save. */
  private wedged = false
  /** The input sequence at which the stage last completed (finish() emitted and saved), if it did. */
  private finishedSeq: number | undefined
  private committedFinishedSeq: number | undefined
  /** Set while the completing save is made: it records `finished` in the state head. */
  private completing = false
  readonly input: GroupInput

  constructor(
    readonly group: StageGroup,
    transforms: { spec: StageSpec; proc: TransformProcessor }[],
    sinks: { spec: StageSpec; writer: SinkWriter }[],
    private readonly deps: StatefulDeps,
  ) {
    const [head, ...rest] = transforms
    if (!head) throw new TributaryError('E_INTERNAL', `group ${group.id} has no stateful transform at its head`)
    const p = head.proc as Partial<StatefulTransformProcessor>
    if (typeof p.snapshot !== 'function' || typeof p.restore !== 'function') {
      throw new TributaryError('E_PLUGIN', `plugin "${head.spec.use}" (transform, stage ${head.spec.id}) is marked stateful but its processor has no snapshot() and restore()`, {
        hint: 'a stateful transform returns a StatefulTransformProcessor (see docs/state.md), or its manifest drops `"stateful": true`',
      })
    }
    this.head = { spec: head.spec, proc: head.proc as StatefulTransformProcessor }
    this.input = deps.input ?? { consumer: group.consumer, subject: group.inputSubject }
    this.rest = rest
    this.queues = sinks.map((s) => new OutputQueue(s.spec, s.writer, s.spec.where ? celCompiler.compile(s.spec.where) : undefined))
    this.maxHeld = deps.maxHeld ?? 10_000
    this.commitIntervalMs = deps.commitIntervalMs ?? 1000
    // Room for the head's other fields and the message headers under max_payload.
    const maxValue = Math.max(64 * 1024, Math.min(900 * 1024, deps.maxPayload - 8 * 1024))
    this.snapshots = new StateSnapshots(deps.kv, head.spec.id, deps.logger, maxValue, this.input.partition)
  }

  get consumer(): string {
    return this.input.consumer
  }

  /** What the durable's max_ack_pending must exceed: inputs held until a save, plus fetches in flight. */
  static maxAckPendingFor(maxHeld: number, fetchBatch: number): number {
    return maxHeld + 3 * fetchBatch
  }

  get idle(): boolean {
    return this.caughtUp && this.held.length === 0 && !this.dirty && this.queues.every((q) => q.empty)
  }

  requestStop(): void {
    if (this.stopping === 'no') this.stopping = 'drain'
    this.fetcher?.stop()
  }

  complete(): void {
    this.stopping = 'complete'
    this.fetcher?.stop()
  }

  private meter(stageId: string): StageMeter {
    return this.deps.metrics?.stage(stageId) ?? noMeter
  }

  async run(): Promise<void> {
    await this.open()
    while (this.fetcher) {
      const got = await this.fetcher.next()
      if (got === undefined) {
        if (this.wedged && this.stopping !== 'drain') {
          await this.rollback('fetches kept failing (the consumer stopped answering)')
          continue
        }
        break
      }
      if (got.length === 0) {
        await this.whenCaughtUp()
        continue
      }
      this.caughtUp = false
      if (!this.order.accept(got)) {
        await this.rollback('a delivery was repeated or lost (a fetch cut short, a server restart)')
        continue
      }
      await this.processInputs(got)
      for (const q of this.queues) if (q.full) await this.flush(q)
      if (this.commitDue()) await this.commit()
    }
    if (this.stopping === 'complete' && this.finishedSeq !== this.processedSeq) {
      // Once per input: a stage restarted after completing, with nothing new, does not finish again.
      if (this.head.proc.finish) {
        const outs = await callHook(this.head.spec, 'finish', () => this.head.proc.finish!())
        await this.emitLoose(outs)
      }
      this.completing = true
      this.dirty = true
    }
    await this.commit()
  }

  /** Restores the saved state and positions the durable right after the inputs it covers. */
  private async open(): Promise<void> {
    this.streamCreated = (await this.deps.jsm.streams.info(this.deps.stream)).created
    let saved = await this.snapshots.load()
    if (saved && saved.stream !== undefined && saved.stream !== this.streamCreated) {
      // Its sequences name messages of a stream that no longer exists: they mean nothing here.
      this.deps.logger.warn({ stage: this.head.spec.id, savedFor: saved.stream, stream: this.streamCreated }, 'the pipeline stream was recreated since this stage saved its state; starting the stage afresh')
      saved = undefined
    }
    if (saved) {
      const state = JSON.parse(saved.json) as never
      await callHook(this.head.spec, 'restore', () => this.head.proc.restore(state))
      this.committedSeq = saved.seq
      this.committedState = saved.json
      this.committedFinishedSeq = saved.finished ? saved.seq : undefined
      this.deps.logger.info({ stage: this.head.spec.id, ...this.partitionLabel(), seq: saved.seq, bytes: saved.json.length }, 'stage state restored')
    } else {
      this.committedSeq = 0
      this.committedState = JSON.stringify((await callHook(this.head.spec, 'snapshot', () => this.head.proc.snapshot())) ?? null)
    }
    this.processedSeq = this.committedSeq
    this.finishedSeq = this.committedFinishedSeq
    if (this.stopping === 'drain') return
    await this.startFetching()
  }

  private partitionLabel(): { partition?: number } {
    return this.input.partition ? { partition: this.input.partition.index } : {}
  }

  private async startFetching(): Promise<void> {
    // A rollback often comes from a server restart: the durable is positioned once NATS answers again.
    await positionDurableWhenReachable(
      this.deps.jsm,
      {
        stream: this.deps.stream,
        name: this.input.consumer,
        filterSubject: this.input.subject,
        afterSeq: this.committedSeq,
        maxAckPending: StatefulGroupRunner.maxAckPendingFor(this.maxHeld, this.deps.fetchBatch),
        ackWaitMs: this.deps.ackWaitMs,
      },
      this.deps,
    )
    this.order.reset(this.committedSeq)
    this.wedged = false
    const fetcher = createBatchFetcher(this.deps.js, this.deps.stream, this.input.consumer, {
      batch: this.deps.fetchBatch,
      expiresMs: FETCH_EXPIRES_MS,
      onError: (err, attempt) => {
        if (fetcher !== this.fetcher) return // a fetcher given up by a rollback
        this.deps.logger.warn({ consumer: this.input.consumer, attempt: attempt + 1, err: errorMessage(err) }, 'fetch failed; retrying')
        // A failed fetch may have lost deliveries (a rollback follows at the next gap), and a
        // durable that answers no pull at all (seen on 2.9 under load) is recreated.
        if (attempt + 1 >= WEDGED_AFTER_FAILURES) {
          this.wedged = true
          fetcher.stop()
        }
      },
    })
    this.fetcher = fetcher
    if (this.stopping === 'drain') this.fetcher.stop()
  }

  /**
   * Back to the last save: the head gets its saved state again, outputs not yet written are
   * dropped (any already written are re-emitted with the same ids), and the durable is positioned
   * after the saved sequence so the inputs since come again, in order.
   */
  private async rollback(why: string): Promise<void> {
    this.deps.logger.warn({ stage: this.head.spec.id, ...this.partitionLabel(), backTo: this.committedSeq, discarded: this.held.length }, `stateful stage rolls back to its last save: ${why}`)
    this.fetcher?.stop()
    this.fetcher = undefined
    const state = JSON.parse(this.committedState) as never
    await callHook(this.head.spec, 'restore', () => this.head.proc.restore(state))
    for (const q of this.queues) q.clear()
    this.held = []
    this.dirty = false
    this.completing = false
    this.processedSeq = this.committedSeq
    this.finishedSeq = this.committedFinishedSeq
    if (this.stopping === 'drain') return
    if (this.stopping === 'complete') this.stopWhenCaughtUp = true
    await this.startFetching()
  }

  private async whenCaughtUp(): Promise<void> {
    this.caughtUp = true
    if (this.head.proc.tick) {
      // An empty fetch waited FETCH_EXPIRES_MS: everything stored before it started was delivered.
      const outs = await callHook(this.head.spec, 'tick', () => this.head.proc.tick!(Date.now() - FETCH_EXPIRES_MS))
      await this.emitLoose(outs)
    }
    if (this.dirty || this.held.length > 0 || this.queues.some((q) => !q.empty)) await this.commit()
    if (this.stopWhenCaughtUp) this.fetcher?.stop()
  }

  private commitDue(): boolean {
    const now = Date.now()
    return this.held.length >= this.maxHeld || now - this.lastCommit >= this.commitIntervalMs || this.queues.some((q) => q.due(now))
  }

  private async processInputs(msgs: JsMsg[]): Promise<void> {
    const dead: OutMessage[] = []
    const records: JsonObject[] = []
    const meta: RecordMeta[] = []
    const origins: JsMsg[] = []
    if (this.held.length === 0) this.heldSince = performance.now()
    for (const m of msgs) {
      this.held.push(m)
      let v: unknown
      try {
        v = JSON.parse(decoder.decode(m.data))
      } catch (err) {
        dead.push(this.deadLetter(m.data, m.seq, this.head.spec, `not valid JSON: ${errorMessage(err)}`, 'E_RECORD', 1))
        continue
      }
      if (typeof v !== 'object' || v === null || Array.isArray(v)) {
        dead.push(this.deadLetter(m.data, m.seq, this.head.spec, 'a record must be a JSON object', 'E_RECORD', 1))
        continue
      }
      const et = m.headers?.get(H.eventTime)
      const eventTime = et ? Number(et) : NaN
      records.push(v as JsonObject)
      const arrivalTime = Math.floor(m.info.timestampNanos / 1e6)
      meta.push(Number.isFinite(eventTime) ? { seq: m.seq, arrivalTime, eventTime } : { seq: m.seq, arrivalTime })
      origins.push(m)
    }
    this.stats.in += msgs.length
    this.processedSeq = msgs[msgs.length - 1]!.seq
    this.dirty = true

    const started = performance.now()
    // A stateful transform that throws leaves its state half-updated: the group stops, and a
    // restart resumes from the last save. Bad records are for reject(), not for throwing.
    const results = records.length ? await callHook(this.head.spec, 'process', () => this.head.proc.process(records, meta)) : []
    if (!Array.isArray(results) || results.length !== records.length) {
      throw new TributaryError('E_PLUGIN', `plugin "${this.head.spec.use}" (transform, stage ${this.head.spec.id}) returned ${Array.isArray(results) ? results.length : typeof results} results for ${records.length} records`, {
        hint: 'process() must return exactly one result per input record (a record, an array, null, or reject())',
      })
    }
    const outs: QueuedOutput[] = []
    for (let i = 0; i < results.length; i++) {
      const r = results[i]
      const m = origins[i]!
      if (r === null || r === undefined) continue
      if (isRejection(r)) {
        dead.push(this.deadLetter(m.data, m.seq, this.head.spec, r.reason, 'E_REJECTED', 1))
        continue
      }
      const list = Array.isArray(r) ? r : [r]
      const eventTime = m.headers?.get(H.eventTime) || undefined
      list.forEach((rec, j) => outs.push({ record: rec, id: this.idOf(rec, m.seq, j), seq: m.seq, size: m.data.length, eventTime: outputKey(rec) === undefined ? eventTime : undefined }))
    }
    this.meter(this.head.spec.id).batch(records.length, outs.length, (performance.now() - started) / 1000)
    await this.deliver(outs, dead)
  }

  /** Outputs not tied to an input (tick, finish). */
  private async emitLoose(records: JsonObject[]): Promise<void> {
    if (!Array.isArray(records) || records.length === 0) return
    const outs = records.map((rec) => ({ record: rec, id: this.idOf(rec, this.processedSeq, -1), seq: this.processedSeq, size: LOOSE_SIZE }))
    this.meter(this.head.spec.id).count(0, outs.length)
    this.dirty = true
    await this.deliver(outs, [])
  }

  private idOf(rec: JsonObject, seq: number, index: number): string {
    const key = outputKey(rec)
    const { pipeline, epoch } = this.deps
    if (key !== undefined) return keyedMessageId(pipeline, this.group.id, epoch, key)
    if (index >= 0) return inputOutputId(pipeline, this.group.id, epoch, seq, index)
    // Partitions number their loose outputs apart (two may emit after the same sequence, 0).
    const p = this.input.partition ? `p${this.input.partition.index}` : ''
    return `${inputOutputId(pipeline, this.group.id, epoch, seq, 0)}:${p}t${this.looseIndex++}`
  }

  /** The group's stateless transforms, then the output subject or the sinks' queues. */
  private async deliver(outs: QueuedOutput[], dead: OutMessage[]): Promise<void> {
    for (const t of this.rest) {
      if (outs.length === 0) break
      outs = await this.runStateless(t, outs, dead)
    }
    if (this.group.outputSubject && outs.length) {
      await this.deps.publisher.publishBatch(outs.map((o) => this.outputMessage(o)))
    }
    for (const q of this.queues) {
      const before = q.items.length
      for (const o of outs) {
        if (q.where) {
          let pass: boolean
          try {
            pass = q.where.test(o.record)
          } catch (err) {
            dead.push(this.deadLetter(encoder.encode(JSON.stringify(o.record)), o.seq, q.spec, errorMessage(err), 'E_EXPR', 1, idIndex(o.id)))
            continue
          }
          if (!pass) continue
        }
        q.add(o)
      }
      this.meter(q.spec.id).count(q.items.length - before, 0)
    }
    if (dead.length) await this.deps.publisher.publishBatch(dead)
    this.stats.dead += dead.length
    this.stats.out += outs.length
  }

  /**
   * A stateless transform after the head. Its inputs are already in the head's state and cannot
   * be redelivered, so a record it fails on goes to the DLQ at once (the others flow).
   */
  private async runStateless(t: { spec: StageSpec; proc: TransformProcessor }, outs: QueuedOutput[], dead: OutMessage[]): Promise<QueuedOutput[]> {
    const started = performance.now()
    const call = async (list: QueuedOutput[]): Promise<TransformResult[]> => {
      const res = await callHook(t.spec, 'process', () => t.proc.process(list.map((o) => o.record)))
      if (!Array.isArray(res) || res.length !== list.length) throw new TributaryError('E_PLUGIN', `plugin "${t.spec.use}" (transform, stage ${t.spec.id}) returned a wrong number of results`)
      return res
    }
    let results: (TransformResult | Error)[]
    try {
      results = await call(outs)
    } catch (err) {
      this.meter(t.spec.id).error(err)
      results = []
      for (const o of outs) results.push(await call([o]).then((r) => r[0]!, (e: unknown) => (e instanceof Error ? e : new Error(String(e)))))
    }
    const next: QueuedOutput[] = []
    results.forEach((r, i) => {
      const o = outs[i]!
      if (r === null || r === undefined) return
      if (r instanceof Error || isRejection(r)) {
        const reason = r instanceof Error ? r.message : r.reason
        dead.push(this.deadLetter(encoder.encode(JSON.stringify(o.record)), o.seq, t.spec, reason, r instanceof Error ? 'E_PLUGIN' : 'E_REJECTED', 1, idIndex(o.id)))
        return
      }
      if (Array.isArray(r)) r.forEach((rec, j) => next.push({ ...o, record: rec, id: j === 0 ? o.id : `${o.id}/${j}` }))
      else next.push({ ...o, record: r })
    })
    this.meter(t.spec.id).batch(outs.length, next.length, (performance.now() - started) / 1000)
    return next
  }

  /**
   * The save: every sink written, then the snapshot with the last input sequence in one KV value,
   * then one ack that settles every input up to it.
   */
  private async commit(): Promise<void> {
    for (const q of this.queues) if (!q.empty) await this.flush(q)
    if (this.dirty) {
      const json = JSON.stringify((await callHook(this.head.spec, 'snapshot', () => this.head.proc.snapshot())) ?? null)
      await this.snapshots.save(this.processedSeq, json, this.streamCreated, this.completing)
      this.committedState = json
      this.committedSeq = this.processedSeq
      this.committedFinishedSeq = this.completing ? this.processedSeq : undefined
      this.finishedSeq = this.committedFinishedSeq
      this.completing = false
      this.dirty = false
    }
    if (this.held.length) {
      this.held[this.held.length - 1]!.ack()
      this.meter(this.head.spec.id).acked(this.held.length, (performance.now() - this.heldSince) / 1000)
      this.stats.acked += this.held.length
      this.held = []
    }
    this.lastCommit = Date.now()
  }

  private async flush(q: OutputQueue): Promise<void> {
    const items = q.take()
    const records = items.map((o) => o.record)
    const ids = items.map((o) => o.id)
    const maxAttempts = this.deps.maxWriteAttempts ?? 8
    let lastProgress = Date.now()
    for (let attempt = 0; ; attempt++) {
      try {
        const started = performance.now()
        // Always "redelivered": outputs emitted before a crash come again after it, possibly
        // from other inputs (a window closed by a later record), so the sink checks its ids.
        const res = await callHook(q.spec, 'write', () => q.writer.write({ records, ids, redelivered: true }))
        this.meter(q.spec.id).written(records.length - (res?.rejected?.length ?? 0), (performance.now() - started) / 1000)
        if (res?.rejected?.length) {
          const dead = res.rejected.map((r) => this.deadLetter(encoder.encode(JSON.stringify(records[r.index])), items[r.index]!.seq, q.spec, r.reason, 'E_REJECTED', 1, idIndex(ids[r.index]!)))
          await this.deps.publisher.publishBatch(dead)
          this.stats.dead += dead.length
        }
        return
      } catch (err) {
        this.meter(q.spec.id).error(err)
        const transient = (err as { code?: string }).code === 'E_NOT_CONNECTED' || (err as { unavailable?: boolean }).unavailable === true
        if ((!transient && attempt + 1 >= maxAttempts) || this.deps.signal.aborted) throw err
        const delay = backoffDelay(attempt)
        this.deps.logger.warn({ stage: q.spec.id, attempt: attempt + 1, retryInMs: delay, err: errorMessage(err) }, 'sink write failed; retrying')
        await sleep(delay, this.deps.signal)
        if (Date.now() - lastProgress > this.deps.ackWaitMs / 3) {
          // Keep held inputs from being redelivered while the sink is waited out.
          for (const m of this.held) m.working()
          lastProgress = Date.now()
        }
      }
    }
  }

  private outputMessage(o: QueuedOutput): OutMessage {
    const h = headers()
    h.set(H.msgId, o.id)
    if (o.eventTime) h.set(H.eventTime, o.eventTime)
    return { subject: this.deps.route ? this.deps.route(o.record) : this.group.outputSubject!, data: encoder.encode(JSON.stringify(o.record)), headers: h }
  }

  /** `index` tells apart the DLQ entries of several outputs that share an input (or a tick). */
  private deadLetter(data: Uint8Array, seq: number, stage: StageSpec, reason: string, code: string, tries: number, index?: number): OutMessage {
    this.meter(stage.id).dead(1)
    return deadLetterMessage(this.deps.pipeline, this.deps.epoch, {
      data,
      stage: stage.id,
      plugin: stage.use,
      reason,
      code,
      tries,
      originSubject: this.input.subject,
      originSeq: seq,
      index,
    })
  }
}

/** A stable number from an output id, for the DLQ entry's message id (outputs of one input differ by id). */
function idIndex(id: string): number {
  let h = 0
  for (let i = 0; i < id.length; i++) h = (Math.imul(h, 31) + id.charCodeAt(i)) >>> 0
  return h + 1
}
