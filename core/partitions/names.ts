/**
 * Names of a stage split into key partitions (docs/state.md). A stage with one partition keeps
 * the names it always had — its subject, durable `<pipeline>--<stage>` and state head
 * `<stage>._state` — so existing state and consumers are unaffected. Partition `i` of `n > 1`
 * reads `<input subject>.p<i>` (the stream's `trib.<name>.>` covers it) with its own durable and
 * state head.
 */

export function partitionSubject(subject: string, index: number): string {
  return `${subject}.p${index}`
}

/** Durable of partition `index` (durable names cannot hold dots). */
export function partitionConsumer(consumer: string, index: number): string {
  return `${consumer}--p${index}`
}

/** KV key of the saved state of a stateful stage (or of one of its partitions). */
export function stateHeadKey(stageId: string, partition?: { index: number; count: number }): string {
  return partition && partition.count > 1 ? `${stageId}._state.p${partition.index}` : `${stageId}._state`
}

/** KV key recording how many partitions a stage was split into (absent: never split). */
export function partitionCountKey(stageId: string): string {
  return `${stageId}._partitions`
}

/** `<subject>.p<i>` → the subject and i; undefined for any other subject. */
export function parsePartitionSubject(subject: string): { subject: string; index: number } | undefined {
  const m = /^(.+)\.p(\d{1,3})$/.exec(subject)
  return m ? { subject: m[1]!, index: Number(m[2]) } : undefined
}

/** `<consumer>--p<i>` → the group's durable and i. */
export function parsePartitionConsumer(name: string): { consumer: string; index: number } | undefined {
  const m = /^(.+)--p(\d{1,3})$/.exec(name)
  return m ? { consumer: m[1]!, index: Number(m[2]) } : undefined
}
