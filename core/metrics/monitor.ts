import type { JetStreamManager } from '@nats-io/jetstream'
import type { Logger } from '../log/logger.js'
import { errorMessage } from '../errors.js'
import { probePipeline, type PipelineProbe, type ProbeTarget } from './probe.js'
import type { PolledGauges } from './prometheus.js'

/** Above this share of max_age, the oldest unprocessed message is close to being deleted unread. */
export const RETENTION_WARN_RATIO = 0.8
const WARN_EVERY_MS = 60_000

export interface MonitorOptions {
  pipeline: string
  jsm: JetStreamManager
  targets: ProbeTarget[]
  gauges?: PolledGauges
  logger: Logger
  intervalMs: number
  /** Called after every poll (the status heartbeat), and once more at stop(). */
  onProbe?: (probe: PipelineProbe | undefined) => Promise<void>
}

export interface Monitor {
  /** The last poll's result (undefined before the first one or when it failed). */
  latest(): PipelineProbe | undefined
  /** Stops polling and runs `onProbe` one last time. */
  stop(): Promise<void>
}

/**
 * Polls the stream and the durables every `intervalMs`, sets the polled gauges (pending,
 * ack-pending, oldest unacknowledged age and its share of retention) and warns in the log when a
 * stage's lag nears `max_age`: there, JetStream deletes data nobody has processed yet.
 */
export function startMonitor(opts: MonitorOptions): Monitor {
  let last: PipelineProbe | undefined
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  const warnedAt = new Map<string, number>()
  const apply = (p: PipelineProbe): void => {
    const g = opts.gauges
    if (g && p.stream) {
      const l = { pipeline: opts.pipeline }
      g.streamMessages.set(l, p.stream.messages)
      g.streamBytes.set(l, p.stream.bytes)
      g.streamMaxBytes.set(l, p.stream.maxBytes)
      g.streamMaxAge.set(l, p.stream.maxAgeS)
      g.dlqMessages.set(l, p.stream.dlq)
    }
    for (const c of p.consumers) {
      const l = { pipeline: opts.pipeline, stage: c.stage, consumer: c.consumer }
      g?.consumerPending.set(l, c.pending)
      g?.consumerAckPending.set(l, c.ackPending)
      g?.consumerRedelivered.set(l, c.redelivered)
      g?.oldestUnackedAge.set(l, c.oldestUnackedAgeS)
      g?.retentionUsed.set(l, c.retentionUsed)
      if (c.retentionUsed >= RETENTION_WARN_RATIO && Date.now() - (warnedAt.get(c.consumer) ?? 0) > WARN_EVERY_MS) {
        warnedAt.set(c.consumer, Date.now())
        opts.logger.warn(
          { stage: c.stage, consumer: c.consumer, oldestUnackedAgeS: Math.round(c.oldestUnackedAgeS), maxAgeS: p.stream?.maxAgeS, pending: c.pending + c.ackPending },
          `stage ${c.stage} lags ${Math.round(c.retentionUsed * 100)}% of the stream's retention: unprocessed records will be deleted at max_age (scale the stage out or raise retention.maxAge)`,
        )
      }
    }
  }
  const tick = async (): Promise<void> => {
    try {
      last = await probePipeline(opts.jsm, opts.pipeline, opts.targets)
      apply(last)
    } catch (err) {
      // A poll that fails (NATS restarting) is skipped; the data path has its own retries.
      last = undefined
      opts.logger.debug({ err: errorMessage(err) }, 'metrics poll failed')
    }
    await opts.onProbe?.(last).catch((err: unknown) => opts.logger.debug({ err: errorMessage(err) }, 'status heartbeat failed'))
  }
  let running: Promise<void> = tick()
  const schedule = (): void => {
    if (stopped) return
    timer = setTimeout(() => {
      running = tick().finally(schedule)
    }, opts.intervalMs)
    timer.unref()
  }
  void running.finally(schedule)
  return {
    latest: () => last,
    async stop() {
      stopped = true
      clearTimeout(timer)
      await running
      await tick()
    },
  }
}
