import { createHash } from 'node:crypto'
import { messageId } from '../jetstream/names.js'

/**
 * Id of an output of a stateful stage, from the key its plugin gave it (`keyed()`): the same
 * window and group give the same id whenever they are emitted, so a repeat after a crash is
 * dropped by the stream's duplicate window and skipped by the ClickHouse sink. Hashed: keys hold
 * user values of any length and characters; ids are short and plain (`[A-Za-z0-9:]`).
 */
export function keyedMessageId(pipeline: string, stageId: string, epoch: number, key: string): string {
  return `${pipeline}:${stageId}:${epoch}:k${createHash('sha256').update(key).digest('hex').slice(0, 40)}`
}

/** Id of the `index`-th output of the input at stream sequence `seq`. */
export function inputOutputId(pipeline: string, stageId: string, epoch: number, seq: number, index: number): string {
  return messageId(pipeline, stageId, epoch, seq, index)
}
