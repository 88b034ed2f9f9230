import { AckPolicy, DeliverPolicy, jetstream, type JetStreamManager, type MsgRequest, type NextMsgRequest } from '@nats-io/jetstream'
import { nanos, type NatsConnection } from '@nats-io/nats-core'
import { TributaryError } from '../errors.js'

/** The stream sequences a replay reads on the source subject, both ends included. */
export interface ReplayRange {
  startSeq: number
  /** Last sequence of the stream when the replay started: its finite end. */
  endSeq: number
  /** First sequence the stream still keeps (retention). */
  firstRetained: number
}

/**
 * Where a replay starts and ends: `fromSeq`, or the first message at or after `since`, or the
 * oldest retained; up to the stream's last message now. Asking for history the stream
 * no longer keeps is an error naming what it keeps. Undefined when there is nothing to replay.
 */
export async function resolveRange(nc: NatsConnection, jsm: JetStreamManager, stream: string, subject: string, opts: { fromSeq?: number; since?: Date }): Promise<ReplayRange | undefined> {
  const info = await jsm.streams.info(stream)
  const firstRetained = info.state.first_seq
  // The stream's last sequence, not `last_by_subj`: on 2.9 that finds nothing once the subject's
  // last message was deleted (measured).
  const endSeq = info.state.last_seq
  if (opts.fromSeq !== undefined && opts.fromSeq < firstRetained) {
    throw new TributaryError('E_USAGE', `sequence ${opts.fromSeq} is no longer retained: stream ${stream} starts at sequence ${firstRetained}`, {
      hint: `replay from --from-seq ${firstRetained} or later, or leave --from-seq out to replay all that is retained`,
    })
  }
  // Only when something was removed: a young stream holds all there ever was since any time.
  if (opts.since !== undefined && firstRetained > 1 && info.state.messages > 0 && opts.since.getTime() < Date.parse(info.state.first_ts)) {
    throw new TributaryError('E_USAGE', `history since ${opts.since.toISOString()} is no longer retained: stream ${stream} starts at ${info.state.first_ts} (sequence ${firstRetained})`, {
      hint: `replay --since ${info.state.first_ts} or later, or leave --since out to replay all that is retained`,
    })
  }
  let startSeq = opts.fromSeq ?? firstRetained
  if (opts.since !== undefined) {
    const at = await firstSeqAtOrAfter(nc, jsm, stream, subject, opts.since)
    if (at === undefined) return undefined
    startSeq = at
  }
  const first = await nextSeqOnSubject(jsm, stream, subject, startSeq - 1)
  if (first === undefined || first > endSeq) return undefined
  return { startSeq: first, endSeq, firstRetained }
}

/**
 * The first message on `subject` stored at or after `time`. The server's message get takes no
 * start time on 2.9 ("bad request"), and ordered consumers from a start time cannot recover
 * there (FACTS): a throwaway consumer from that time, read for one message, gives the sequence.
 */
async function firstSeqAtOrAfter(nc: NatsConnection, jsm: JetStreamManager, stream: string, subject: string, time: Date): Promise<number | undefined> {
  const ci = await jsm.consumers.add(stream, {
    filter_subject: subject,
    deliver_policy: DeliverPolicy.StartTime,
    opt_start_time: time.toISOString(),
    ack_policy: AckPolicy.None,
    inactive_threshold: nanos(60_000),
    mem_storage: true,
  })
  try {
    if (ci.num_pending === 0) return undefined
    const m = await (await jetstream(nc).consumers.get(stream, ci.name)).next({ expires: 5000 })
    // 2.9 starts a consumer whose start time is past the last message at the first one (measured).
    return m && m.time.getTime() >= time.getTime() ? m.seq : undefined
  } finally {
    await jsm.consumers.delete(stream, ci.name).catch(() => undefined)
  }
}

/**
 * Sequence of the first message on `subject` after `afterSeq`, or undefined. The server (2.9
 * included, measured) answers `next_by_subj` on a message get; the client's `MsgRequest` type
 * lists only `seq` and `last_by_subj`, hence the widened request.
 */
export async function nextSeqOnSubject(jsm: JetStreamManager, stream: string, subject: string, afterSeq: number): Promise<number | undefined> {
  const query: NextMsgRequest = { seq: afterSeq + 1, next_by_subj: subject }
  const m = await jsm.streams.getMessage(stream, query as unknown as MsgRequest)
  return m?.seq
}
