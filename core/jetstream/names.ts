/**
 * Every name the data path uses on JetStream, decided once (DESIGN §3). Consumers, KV keys and
 * message ids are keyed by stable stage ids so an edit keeps the progress of unchanged stages.
 */

export function streamName(pipeline: string): string {
  return `TRIB_${pipeline.toUpperCase()}`
}

export function pipelineSubjects(pipeline: string): string {
  return `trib.${pipeline}.>`
}

/** Subject carrying a stage's output. */
export function stageSubject(pipeline: string, stageId: string): string {
  return `trib.${pipeline}.${stageId}`
}

export function dlqSubject(pipeline: string): string {
  return `trib.${pipeline}.dlq`
}

/** Marks DLQ entries as redriven (2.9 cannot delete single messages safely, see core/dlq/resolved.ts). */
export function dlqResolvedSubject(pipeline: string): string {
  return `trib.${pipeline}.dlq.resolved`
}

/** Durable pull consumer of a consuming stage. */
export function consumerName(pipeline: string, stageId: string): string {
  return `${pipeline}--${stageId}`
}

/** KV bucket holding a pipeline's control state (positions, sink progress, epoch). */
export function stateBucket(pipeline: string): string {
  return `trib-state-${pipeline}`
}

/**
 * `Nats-Msg-Id` of an output: pipeline, stage, epoch, origin sequence, and the index when one
 * input yields several outputs. A redelivered input republishes the same id (dropped by the
 * duplicate window); a replay bumps the epoch so reprocessed outputs are not dropped.
 */
export function messageId(pipeline: string, stageId: string, epoch: number, seq: number, index?: number): string {
  return messageIdAfter(messageIdPrefix(pipeline, stageId, epoch), seq, index)
}

/** What every messageId of one stage and epoch starts with (built once per stage on hot paths). */
export function messageIdPrefix(pipeline: string, stageId: string, epoch: number): string {
  return `${pipeline}:${stageId}:${epoch}:`
}

/** messageId from its prefix (messageIdPrefix). */
export function messageIdAfter(prefix: string, seq: number, index?: number): string {
  return index === undefined || index === 0 ? prefix + seq : `${prefix}${seq}:${index}`
}

export interface ParsedMessageId {
  pipeline: string
  stageId: string
  epoch: number
  seq: number
  index: number
}

export function parseMessageId(id: string): ParsedMessageId | undefined {
  const m = /^([a-z][a-z0-9_-]*):([a-z][a-z0-9_-]*):(\d+):(\d+)(?::(\d+))?$/.exec(id)
  if (!m) return undefined
  return { pipeline: m[1]!, stageId: m[2]!, epoch: Number(m[3]), seq: Number(m[4]), index: m[5] ? Number(m[5]) : 0 }
}

/** KV bucket of `run` leases (key: the pipeline name): one `run` process per pipeline at a time. */
export const RUN_LEASES_BUCKET = 'trib-run-leases'
