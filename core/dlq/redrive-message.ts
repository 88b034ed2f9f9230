import { headers } from '@nats-io/nats-core'
import { TributaryError } from '../errors.js'
import type { OutMessage } from '../jetstream/publisher.js'
import { H } from '../jetstream/headers.js'
import { dlqSubject, messageId, stageSubject } from '../jetstream/names.js'
import type { DeadRecord } from './types.js'

/**
 * A record dead at the source was published (or would have been) on the source's own subject,
 * `trib.<name>.<source-id>`; a record dead in a consuming group was read from the group's input
 * subject, named after an upstream stage. Either way the origin subject is the redrive target.
 */
export function isSourceEntry(pipeline: string, r: DeadRecord): boolean {
  return r.originSubject === stageSubject(pipeline, r.stage)
}

/** The subject a redrive republishes the record on; refuses anything outside the pipeline's data path. */
export function redriveTarget(pipeline: string, r: DeadRecord): string {
  const s = r.originSubject
  const prefix = `trib.${pipeline}.`
  const stage = s.slice(prefix.length)
  // A key partition's input is `<stage>.p<i>` (core/partitions/names.ts).
  if (!s.startsWith(prefix) || s === dlqSubject(pipeline) || !/^[a-z][a-z0-9_-]*(\.p\d{1,3})?$/.test(stage)) {
    throw new TributaryError('E_STATE', `dead record ${r.seq} of pipeline "${pipeline}" has no usable origin subject (${s ? `"${s}"` : 'none'}), so it cannot be redriven`, {
      hint: `inspect it with \`tributary dlq show ${pipeline} ${r.seq}\`; leave it out with --stage or --seq, or purge it`,
    })
  }
  return s
}

/**
 * The redrive of one dead record: its bytes unchanged, on its origin subject, under a message id
 * that carries the new epoch and the DLQ sequence, so the duplicate window does not drop it as
 * a copy of the first pass, and a redrive resumed after a crash (same epoch) is deduplicated.
 * `Trib-Redrive-Of` and, for a record that is itself in the stream, `Trib-Origin-Seq` let a
 * later `replay` skip the copy when it reprocesses the original.
 */
export function redriveMessage(pipeline: string, epoch: number, r: DeadRecord): OutMessage {
  const h = headers()
  h.set(H.msgId, messageId(pipeline, r.stage, epoch, r.seq))
  h.set(H.epoch, String(epoch))
  h.set(H.redriveOf, String(r.seq))
  if (!isSourceEntry(pipeline, r)) h.set(H.originSeq, String(r.originSeq))
  return { subject: redriveTarget(pipeline, r), data: r.data, headers: h }
}

/**
 * Entries that stand for the same input: a group dead-letters its input message, so an input
 * whose several outputs were rejected has several entries with one record. It is redriven once.
 */
export function oneInputKey(pipeline: string, r: DeadRecord): string {
  return isSourceEntry(pipeline, r) ? `dlq#${r.seq}` : `${r.originSubject}#${r.originSeq}`
}
