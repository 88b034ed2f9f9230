import { DeliverPolicy, jetstream, type JsMsg } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/nats-core'

const FETCH = 1000

/**
 * Reads every message now on one subject of a stream, oldest first, with an ordered consumer
 * (ephemeral, no acks): no durable is created or moved. Ends when the consumer reports nothing
 * pending (or a fetch comes back empty). `stored`: the subject's message count from stream info.
 */
export async function readSubject(nc: NatsConnection, stream: string, subject: string, stored: number, onMessage: (m: JsMsg) => void): Promise<void> {
  // Known empty: skip the fetch that would only end at its expiry.
  if (stored === 0) return
  const consumer = await jetstream(nc).consumers.get(stream, { filter_subjects: subject, deliver_policy: DeliverPolicy.All })
  try {
    for (let end = false; !end; ) {
      let got = 0
      for await (const m of await consumer.fetch({ max_messages: FETCH, expires: 2000 })) {
        got++
        onMessage(m)
        if (m.info.pending === 0) end = true
      }
      if (got === 0) end = true
    }
  } finally {
    await consumer.delete().catch(() => undefined)
  }
}
