import { randomUUID } from 'node:crypto'
import type { KV } from '@nats-io/kv'
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream'
import type { JsonValue } from '../plugin-api.js'
import type { Logger } from '../log/logger.js'
import { TributaryError, errorMessage } from '../errors.js'
import { backoffDelay, sleep } from './backoff.js'
import { stateHeadKey } from '../partitions/names.js'

/**
 * The saved state of a stateful stage, in the pipeline's KV bucket (docs/state.md).
 *
 * NATS 2.9 has no multi-key atomic write and a KV value is at most `max_payload` (FACTS), so the
 * state and the last input sequence it covers travel in ONE value, the head
 * `<stage>._state`. A state too large for one value is written first as chunks
 * `<stage>._state.<gen>.<i>` under a new generation, and the head naming that generation is
 * written last: a crash between the two leaves the previous head, which still names complete
 * chunks. The head is written with compare-and-set on its revision, so a second process saving
 * the same stage is detected instead of silently interleaving.
 */
export interface SavedState {
  /** Stream sequence of the last input the state covers. */
  seq: number
  /** The snapshot as JSON text (parsed by the caller). */
  json: string
  /** Creation time of the stream the sequence refers to. */
  stream?: string
  /** Saved when the stage completed (finite input done, finish() emitted): nothing came after. */
  finished?: boolean
}

interface Head {
  v: 1
  seq: number
  stream?: string
  owner: string
  /** Inline state, or a chunked one: generation and chunk count. */
  state?: JsonValue
  gen?: number
  chunks?: number
  finished?: boolean
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const MAX_ATTEMPTS = 40

export class StateSnapshots {
  private readonly headKey: string
  private readonly owner = randomUUID()
  /** Revision of the head as last read or written by this process (0: none yet). */
  private revision = 0
  private gen = 0
  private chunks = 0

  constructor(
    private readonly kv: KV,
    private readonly stageId: string,
    private readonly logger: Logger,
    /** Largest value to write (bytes); keeps below the server's max_payload with room for headers. */
    private readonly maxValue: number,
    /** A key partition of the stage has its own head (core/partitions/names.ts). */
    partition?: { index: number; count: number },
  ) {
    this.headKey = stateHeadKey(stageId, partition)
  }

  private chunkKey(gen: number, i: number): string {
    return `${this.headKey}.${gen}.${i}`
  }

  /** The head and its revision; `head` is absent after a delete (the revision still counts for CAS). */
  private async readHead(): Promise<{ head?: Head; revision: number } | undefined> {
    const e = await this.kv.get(this.headKey)
    if (!e) return undefined
    if (e.operation !== 'PUT' || e.length === 0) return { revision: e.revision }
    return { head: e.json<Head>(), revision: e.revision }
  }

  /** The last saved state, or undefined when the stage has none yet. */
  async load(): Promise<SavedState | undefined> {
    const r = await this.readHead()
    if (!r) return undefined
    this.revision = r.revision
    if (!r.head) return undefined
    const h = r.head
    this.gen = h.gen ?? 0
    this.chunks = h.chunks ?? 0
    const finished = h.finished === true ? { finished: true } : {}
    if (h.chunks === undefined) return { seq: h.seq, json: JSON.stringify(h.state ?? null), stream: h.stream, ...finished }
    const parts: Uint8Array[] = []
    for (let i = 0; i < h.chunks; i++) {
      const c = await this.kv.get(this.chunkKey(h.gen ?? 0, i))
      if (!c || c.operation !== 'PUT') {
        throw new TributaryError('E_STATE', `the saved state of ${this.headKey} names chunk ${i} of generation ${h.gen}, which is missing`, {
          hint: 'the KV bucket was edited by hand or lost data; give the stage a new `id` to start its state afresh',
        })
      }
      parts.push(c.value)
    }
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
    let at = 0
    for (const p of parts) {
      all.set(p, at)
      at += p.length
    }
    return { seq: h.seq, json: decoder.decode(all), stream: h.stream, ...finished }
  }

  /**
   * Saves `json` as the state covering inputs up to `seq`. Retries while NATS is unreachable;
   * fails with E_STATE when another process wrote the head since this one last did.
   */
  async save(seq: number, json: string, stream: string | undefined, finished = false): Promise<void> {
    const bytes = encoder.encode(json)
    const headBase = `{"v":1,"seq":${seq},"owner":${JSON.stringify(this.owner)}${stream === undefined ? '' : `,"stream":${JSON.stringify(stream)}`}${finished ? ',"finished":true' : ''}`
    let head: Uint8Array
    const previous = { gen: this.gen, chunks: this.chunks }
    let chunks = 0
    if (bytes.length + headBase.length + 16 <= this.maxValue) {
      head = encoder.encode(`${headBase},"state":${json}}`)
    } else {
      const gen = this.gen + 1
      chunks = Math.ceil(bytes.length / this.maxValue)
      for (let i = 0; i < chunks; i++) {
        const part = bytes.subarray(i * this.maxValue, (i + 1) * this.maxValue)
        await this.retry(`chunk ${i}`, () => this.kv.put(this.chunkKey(gen, i), part))
      }
      head = encoder.encode(`${headBase},"gen":${gen},"chunks":${chunks}}`)
      this.gen = gen
    }
    await this.retry('head', () => this.writeHead(head, seq))
    this.chunks = chunks
    // The previous generation is unreachable now; removing it is housekeeping, not correctness.
    for (let i = 0; i < previous.chunks && previous.gen !== this.gen; i++) {
      await this.kv.purge(this.chunkKey(previous.gen, i)).catch(() => undefined)
    }
  }

  private async writeHead(head: Uint8Array, seq: number): Promise<void> {
    try {
      this.revision = this.revision === 0 ? await this.kv.create(this.headKey, head) : await this.kv.update(this.headKey, head, this.revision)
    } catch (err) {
      const stale = err instanceof JetStreamApiError && (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
      if (!stale) throw err
      // A write whose reply was lost (server restart) may have landed: then it is ours.
      const now = await this.readHead()
      if (now?.head && now.head.owner === this.owner && now.head.seq === seq) {
        this.revision = now.revision
        return
      }
      throw new TributaryError('E_STATE', `another process saved the state of stage ${this.stageId} (${this.headKey}) while this one owned it`, {
        hint: 'run a pipeline with stateful stages in one `run` process, or deploy it to a fleet (which gives each stateful part one owner under a lease); this process stops, and a restart resumes from the last saved state',
      })
    }
  }

  private async retry(what: string, fn: () => Promise<unknown>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await fn()
        return
      } catch (err) {
        if (err instanceof TributaryError || attempt + 1 >= MAX_ATTEMPTS) throw err
        this.logger.warn({ key: this.headKey, part: what, attempt: attempt + 1, err: errorMessage(err) }, 'saving stage state failed; retrying')
        await sleep(backoffDelay(attempt, 250, 5000))
      }
    }
  }
}

/** What another process needs to know of a stage's save: up to where, and whether it completed (no state read). */
export async function savedHeadOf(kv: KV, stageId: string, partition?: { index: number; count: number }): Promise<{ seq: number; finished: boolean } | undefined> {
  const e = await kv.get(stateHeadKey(stageId, partition))
  if (!e || e.operation !== 'PUT' || e.length === 0) return undefined
  const h = e.json<Head>()
  return { seq: h.seq, finished: h.finished === true }
}
