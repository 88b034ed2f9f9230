import { JetStreamApiCodes, JetStreamApiError, type JetStreamManager, type StreamInfo, type StreamInfoRequestOptions } from '@nats-io/jetstream'
import { getConsumer } from '../jetstream/consumer.js'
import { dlqSubject, streamName } from '../jetstream/names.js'

/** A consuming stage's durable, as the server sees it now. */
export interface ConsumerProbe {
  /** The group's first stage id (the consumer is `<pipeline>--<stage>`, or `<pipeline>--<stage>--p<i>` for a key partition). */
  stage: string
  consumer: string
  /** The key partition this durable reads, for a stage split into partitions. */
  partition?: number
  /** False when the durable does not exist (never run, or removed). */
  exists: boolean
  /** In the stream, not yet delivered. */
  pending: number
  /** Delivered, not yet acknowledged. */
  ackPending: number
  redelivered: number
  /** Age of the oldest message not acknowledged, seconds (0 when caught up). */
  oldestUnackedAgeS: number
  /** oldestUnackedAgeS / the stream's max_age (0 without max_age): at 1, unprocessed data is deleted. */
  retentionUsed: number
}

export interface StreamProbe {
  messages: number
  bytes: number
  maxBytes: number
  /** 0: unlimited. */
  maxAgeS: number
  dlq: number
}

export interface PipelineProbe {
  at: string
  stream?: StreamProbe
  consumers: ConsumerProbe[]
}

export interface ProbeTarget {
  stage: string
  consumer: string
  partition?: number
}

/**
 * Reads the stream (with the DLQ subject's count) and each durable's info, and for a durable that
 * lags, the timestamp of its oldest unacknowledged message: the first message on its filter
 * subject after the ack floor. A few API requests per poll, off the data path.
 */
export async function probePipeline(jsm: JetStreamManager, pipeline: string, targets: ProbeTarget[]): Promise<PipelineProbe> {
  const name = streamName(pipeline)
  const at = new Date()
  // subjects_filter makes the server count the DLQ subject's messages.
  const info = await getStream(jsm, name, { subjects_filter: dlqSubject(pipeline) })
  if (!info) return { at: at.toISOString(), consumers: targets.map((t) => emptyProbe(t, false)) }
  const maxAgeS = Number(info.config.max_age) / 1e9
  const stream: StreamProbe = {
    messages: info.state.messages,
    bytes: info.state.bytes,
    maxBytes: info.config.max_bytes,
    maxAgeS,
    dlq: info.state.subjects?.[dlqSubject(pipeline)] ?? 0,
  }
  const consumers = await Promise.all(
    targets.map(async (t): Promise<ConsumerProbe> => {
      const c = await getConsumer(jsm, name, t.consumer)
      if (!c) return emptyProbe(t, false)
      const p: ConsumerProbe = { ...emptyProbe(t, true), pending: c.num_pending, ackPending: c.num_ack_pending, redelivered: c.num_redelivered }
      if (c.num_pending + c.num_ack_pending > 0 && c.config.filter_subject) {
        // 2.9 answers next_by_subj on the plain message-get API (the client types only omit it).
        const query = { seq: Math.max(c.ack_floor.stream_seq + 1, info.state.first_seq), next_by_subj: c.config.filter_subject } as unknown as { seq: number }
        const oldest = await jsm.streams.getMessage(name, query).catch(() => null)
        if (oldest) {
          p.oldestUnackedAgeS = Math.max(0, (at.getTime() - oldest.time.getTime()) / 1000)
          p.retentionUsed = maxAgeS > 0 ? p.oldestUnackedAgeS / maxAgeS : 0
        }
      }
      return p
    }),
  )
  return { at: at.toISOString(), stream, consumers }
}

function emptyProbe(t: ProbeTarget, exists: boolean): ConsumerProbe {
  return { stage: t.stage, consumer: t.consumer, ...(t.partition !== undefined ? { partition: t.partition } : {}), exists, pending: 0, ackPending: 0, redelivered: 0, oldestUnackedAgeS: 0, retentionUsed: 0 }
}

async function getStream(jsm: JetStreamManager, name: string, opts: Partial<StreamInfoRequestOptions>): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(name, opts)
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return undefined
    throw err
  }
}
