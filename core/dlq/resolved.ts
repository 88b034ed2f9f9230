import { headers, type NatsConnection } from '@nats-io/nats-core'
import type { OutMessage } from '../jetstream/publisher.js'
import { H } from '../jetstream/headers.js'
import { dlqResolvedSubject, messageId, streamName } from '../jetstream/names.js'
import { readSubject } from './subject-reader.js'

/** Sequences per marker message: ~8 bytes each keeps a marker far below max_payload (1 MB). */
const PER_MARKER = 50_000
const encoder = new TextEncoder()

/**
 * Redriven entries are marked, not deleted. On nats-server 2.9 deleting single messages of a
 * subject corrupts that subject's index once its last message is among them: later reads by
 * subject (consumers, purge, next_by_subj, last_by_subj) silently skip surviving entries
 * (measured on 2.9.10). So a redrive appends markers on `trib.<name>.dlq.resolved` listing the
 * DLQ sequences it took, and the list leaves those out; `dlq purge` clears both subjects.
 */
export function resolvedMarkers(pipeline: string, epoch: number, seqs: readonly number[]): OutMessage[] {
  const out: OutMessage[] = []
  for (let i = 0; i < seqs.length; i += PER_MARKER) {
    const h = headers()
    // Keyed by the chunk's first sequence: a resumed redrive (same epoch) marks only what is still unmarked.
    h.set(H.msgId, messageId(pipeline, 'dlq-resolved', epoch, seqs[i]!))
    h.set(H.epoch, String(epoch))
    out.push({ subject: dlqResolvedSubject(pipeline), data: encoder.encode(JSON.stringify(seqs.slice(i, i + PER_MARKER))), headers: h })
  }
  return out
}

/** Every DLQ sequence marked as redriven; `stored`: messages on the marker subject (stream info). */
export async function readResolved(nc: NatsConnection, pipeline: string, stored: number): Promise<Set<number>> {
  const done = new Set<number>()
  await readSubject(nc, streamName(pipeline), dlqResolvedSubject(pipeline), stored, (m) => {
    try {
      for (const s of m.json<number[]>()) if (Number.isInteger(s)) done.add(s)
    } catch {
      // Not a marker this version wrote: ignore it rather than hide entries.
    }
  })
  return done
}
