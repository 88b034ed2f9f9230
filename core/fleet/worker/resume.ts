import { jetstream } from '@nats-io/jetstream'
import { Kvm, type KV } from '@nats-io/kv'
import type { NatsConnection } from '@nats-io/nats-core'
import type { PipelineSpec } from '../../pipeline/types.js'
import type { RunSummary } from '../../runtime/runtime.js'
import { readFinished } from '../../runtime/finished-marker.js'
import { stateBucket } from '../../jetstream/names.js'
import { sleep } from '../../runtime/backoff.js'

const POLL_MS = 1000

/**
 * A stateful part that completed (its source's input finished, what was open emitted) idles; it
 * runs again when the source reads again — its finished marker is gone or was written anew — so
 * records read later are not left unconsumed.
 */
export function whenSourceReadsAgain(nc: NatsConnection, spec: PipelineSpec): (summary: RunSummary, signal: AbortSignal) => Promise<void> {
  return async (summary, signal) => {
    if (summary.completedUnder === undefined) return sleep(2 ** 31 - 1, signal)
    let kv: KV | undefined
    while (!signal.aborted) {
      try {
        kv ??= await new Kvm(jetstream(nc)).open(stateBucket(spec.name))
        if ((await readFinished(kv, spec.source.id))?.id !== summary.completedUnder) return
      } catch {
        // NATS unreachable for now: asked again.
      }
      await sleep(POLL_MS, signal)
    }
  }
}
