import { jetstream, jetstreamManager, AckPolicy, DeliverPolicy } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/nats-core'
import { dlqSubject, streamName } from '../../core/jetstream/names.js'

export interface DlqEntry {
  data: string
  headers: Record<string, string>
}

/** Reads every message on a pipeline's DLQ subject with an ephemeral consumer. */
export async function readDlq(nc: NatsConnection, pipeline: string): Promise<DlqEntry[]> {
  const jsm = await jetstreamManager(nc)
  const stream = streamName(pipeline)
  const info = await jsm.streams.info(stream, { subjects_filter: dlqSubject(pipeline) })
  const n = info.state.subjects?.[dlqSubject(pipeline)] ?? 0
  if (n === 0) return []
  const ci = await jsm.consumers.add(stream, { ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.All, filter_subject: dlqSubject(pipeline), inactive_threshold: 10_000_000_000 })
  const c = await jetstream(nc).consumers.get(stream, ci.name)
  const out: DlqEntry[] = []
  while (out.length < n) {
    for await (const m of await c.fetch({ max_messages: n - out.length, expires: 2000 })) {
      const headers: Record<string, string> = {}
      for (const k of m.headers?.keys() ?? []) headers[k] = m.headers!.get(k)
      out.push({ data: m.string(), headers })
    }
  }
  await jsm.consumers.delete(stream, ci.name)
  return out
}
