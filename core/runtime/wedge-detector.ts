import type { ConsumerInfo } from '@nats-io/jetstream'

export interface WedgeDetectorOptions {
  /** The fetch period (a fetch's expiry), ms: silence is counted in these. */
  periodMs: number
  /** Quiet periods before the durable is first asked, and again before it is judged (default 3). */
  quietPeriods?: number
  /** Longest quiet wait after repeated restarts that did not help, ms (default 60 s). */
  maxQuietMs?: number
  /** The durable's info now; undefined or a throw: unknown (NATS unreachable), no decision. */
  info(): Promise<ConsumerInfo | undefined>
  /** Inputs delivered to this process and not yet settled (held unacked, or nak'd with a delay still running). */
  held(): number
}

export type WedgeVerdict = 'wedged' | 'waiting'

interface Sample {
  at: number
  delivered: number
  ackFloor: number
}

/**
 * Tells a fetch loop that stopped receiving (no messages, no heartbeats: its pulls go unanswered)
 * from a durable that simply has nothing for us. Seen on nats-server 2.9 under heavy load: a
 * consumer's fetches got nothing while messages waited, and never recovered on their own.
 *
 * The loop reports each delivery (`delivered()`); while nothing arrives it calls `check()` about
 * once a fetch period. After `quietPeriods` periods the durable's info is sampled; after as many
 * more it is judged wedged when, in between, nothing at all moved on the durable (no delivery to
 * anyone, no ack floor progress) while it had work we should be getting: messages pending with
 * room under max_ack_pending, or deliveries that nobody here holds. The second sample keeps a
 * process that shares the durable from being taken for wedged while the others work.
 * After a restart the quiet needed doubles (up to `maxQuietMs`) until a message arrives again.
 */
export class WedgeDetector {
  private quietSince: number
  private quietMs: number
  private readonly baseQuietMs: number
  private readonly maxQuietMs: number
  private sample: Sample | undefined
  private asking = false

  constructor(private readonly opts: WedgeDetectorOptions, now = Date.now()) {
    this.baseQuietMs = opts.periodMs * (opts.quietPeriods ?? 3)
    this.quietMs = this.baseQuietMs
    this.maxQuietMs = Math.max(this.baseQuietMs, opts.maxQuietMs ?? 60_000)
    this.quietSince = now
  }

  /** Messages arrived: the loop is alive. */
  delivered(now = Date.now()): void {
    this.quietSince = now
    this.quietMs = this.baseQuietMs
    this.sample = undefined
  }

  /** The loop was recreated: wait as long again, and longer, before judging it. */
  restarted(now = Date.now()): void {
    this.quietSince = now
    this.quietMs = Math.min(this.maxQuietMs, this.quietMs * 2)
    this.sample = undefined
  }

  /** Cheap: true when the quiet has lasted long enough for `check()` to ask the server. */
  due(now = Date.now()): boolean {
    return !this.asking && now - this.quietSince >= this.quietMs
  }

  /** Asks the durable when due; 'wedged' when the loop should be recreated. */
  async check(now = Date.now()): Promise<WedgeVerdict> {
    if (!this.due(now)) return 'waiting'
    this.asking = true
    let info: ConsumerInfo | undefined
    try {
      info = await this.opts.info()
    } catch {
      info = undefined
    } finally {
      this.asking = false
    }
    // Unreachable: the fetch loop's own retries cover that; ask again next period.
    if (!info) return 'waiting'
    const s: Sample = { at: now, delivered: info.delivered.consumer_seq, ackFloor: info.ack_floor.consumer_seq }
    if (!hasWorkForUs(info, this.opts.held())) {
      // Nothing for us: quiet is normal. Look again after another quiet stretch.
      this.quietSince = now
      this.sample = undefined
      return 'waiting'
    }
    const before = this.sample
    if (!before || before.delivered !== s.delivered || before.ackFloor !== s.ackFloor) {
      // First look, or the durable moved since (others share it, or it came back): judge later.
      this.sample = s
      this.quietSince = now
      return 'waiting'
    }
    return 'wedged'
  }
}

/** Messages the server should be delivering to our pulls, or deliveries nobody here holds. */
export function hasWorkForUs(info: ConsumerInfo, held: number): boolean {
  const maxAckPending = info.config.max_ack_pending ?? -1
  const room = maxAckPending <= 0 || info.num_ack_pending < maxAckPending
  return (info.num_pending > 0 && room) || info.num_ack_pending > held
}
