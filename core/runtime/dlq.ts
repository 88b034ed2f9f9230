import { headers } from '@nats-io/nats-core'
import type { OutMessage } from '../jetstream/publisher.js'
import { H, headerValue } from '../jetstream/headers.js'
import { dlqSubject, messageId } from '../jetstream/names.js'

export interface DeadLetter {
  /** The record as it was (raw bytes when it could not be parsed). */
  data: Uint8Array
  stage: string
  plugin: string
  reason: string
  code: string
  tries: number
  originSubject: string
  /** Stream sequence of the input (or source offset for a source); with index, makes the id. */
  originSeq: number
  index?: number
}

/** A DLQ entry: the record plus headers that say which stage, why, and how many tries (DESIGN §4). */
export function deadLetterMessage(pipeline: string, epoch: number, d: DeadLetter): OutMessage {
  const h = headers()
  h.set(H.msgId, messageId(pipeline, `dlq-${d.stage}`, epoch, d.originSeq, d.index))
  h.set(H.stage, d.stage)
  h.set(H.plugin, d.plugin)
  h.set(H.reason, headerValue(d.reason))
  h.set(H.errorCode, d.code)
  h.set(H.tries, String(d.tries))
  h.set(H.originSubject, d.originSubject)
  h.set(H.originSeq, String(d.originSeq))
  h.set(H.time, new Date().toISOString())
  h.set(H.epoch, String(epoch))
  return { subject: dlqSubject(pipeline), data: d.data, headers: h }
}
