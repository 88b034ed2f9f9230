import type { JetStreamManager } from '@nats-io/jetstream'
import type { KV } from '@nats-io/kv'
import type { NatsConnection } from '@nats-io/nats-core'
import type { StageSpec } from '../pipeline/types.js'
import { getConsumer } from '../jetstream/consumer.js'
import { groupInputs, type Topology } from './topology.js'
import type { StageRunner } from './stage-runner.js'
import { readFinished } from './finished-marker.js'
import { savedHeadOf } from './state-snapshot.js'
import { sleep } from './backoff.js'

export interface CompletionDeps {
  jsm: JetStreamManager
  kv: KV
  nc: NatsConnection
  stream: string
  topology: Topology
  sourceId: string
  isStateful(stage: StageSpec): boolean
  signal: AbortSignal
  pollMs?: number
}

/**
 * The cross-process version of `run`'s end of input, for a stateful group (or one key partition
 * of it) running apart from the source: a fleet part. Its input is finished for good when
 *
 * 1. the source marked its finite input finished (`<source>._finished`, written once everything
 *    it read is in the stream);
 * 2. every group before it, in topology order, has consumed and acknowledged everything: each of
 *    its durables has nothing pending and nothing unacknowledged (groups ack an input only once
 *    its outputs are stored, so 0/0 means its outputs are in the stream), and a stateful one has
 *    also completed — its saved state says `finished` (its finish() outputs are stored);
 * 3. its own durable is empty and the runner holds nothing;
 *
 * and the marker read first is still there afterwards (a source that starts reading again
 * removes it before it publishes). Resolves with the marker's id, or undefined once `signal` aborts.
 */
export async function waitUntilInputEnds(d: CompletionDeps, runner: StageRunner): Promise<string | undefined> {
  const index = d.topology.groups.findIndex((g) => g.id === runner.group.id)
  const upstream = d.topology.groups.slice(0, Math.max(0, index))
  const drained = async (consumer: string): Promise<boolean> => {
    const info = await getConsumer(d.jsm, d.stream, consumer)
    return info !== undefined && info.num_pending === 0 && info.num_ack_pending === 0
  }
  const ready = async (): Promise<string | undefined> => {
    const marker = await readFinished(d.kv, d.sourceId)
    if (!marker) return undefined
    for (const g of upstream) {
      const head = g.transforms[0]
      const stateful = head !== undefined && d.isStateful(head)
      for (const input of groupInputs(g)) {
        if (!(await drained(input.consumer))) return undefined
        if (stateful && !(await savedHeadOf(d.kv, head.id, input.partition))?.finished) return undefined
      }
    }
    if (!runner.idle) return undefined
    // Everything this process acked has reached the server before the durable is asked.
    await d.nc.flush()
    if (!runner.idle || !(await drained(runner.consumer))) return undefined
    return (await readFinished(d.kv, d.sourceId))?.id === marker.id ? marker.id : undefined
  }
  while (!d.signal.aborted) {
    // A server restart may interrupt a check: it is simply asked again.
    const id = await ready().catch(() => undefined)
    if (id !== undefined && !d.signal.aborted) return id
    await sleep(d.pollMs ?? 500, d.signal)
  }
  return undefined
}
