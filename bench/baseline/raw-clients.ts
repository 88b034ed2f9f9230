/**
 * The pieces every raw-client baseline uses, written the most direct way FACTS measured: core
 * publish with a reply inbox and own ack counting (a bounded window), pull fetches of 1000 with
 * the next one asked for before processing, chDB inserts of 10k-row JSONEachRow batches.
 */
import { connect } from '@nats-io/transport-node'
import { createInbox, headers, type NatsConnection } from '@nats-io/nats-core'
import { AckPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream'

export async function connectRaw(url: string): Promise<NatsConnection> {
  return connect({ servers: url, noAsyncTraces: true })
}

export async function openChdb(dir: string): Promise<{ command(sql: string): Promise<void>; insert(table: string, rows: string[]): Promise<void>; close(): Promise<void> }> {
  const { createClient } = await import('@clickhouse/client')
  const { createChdbConnection } = await import('chdb/connection')
  const conn = createChdbConnection({ path: dir })
  const ch = createClient({ connection: conn as unknown as NonNullable<Parameters<typeof createClient>[0]>['connection'] })
  return {
    command: async (query) => void (await ch.command({ query })),
    insert: async (table, rows) => {
      if (rows.length) await conn.chdb.rawInsert({ table, values: rows.join('\n'), format: 'JSONEachRow', settings: { input_format_skip_unknown_fields: 1 } })
    },
    close: () => ch.close(),
  }
}

/**
 * Core publishes whose JetStream acks are counted on one wildcard subscription; at most `window`
 * outstanding. Acks of one stream come back in publish order, so "n acked" means the first n.
 */
export function rawPublisher(nc: NatsConnection, window = 4000): { publish(subject: string, data: Uint8Array, msgId: string): Promise<void>; waitAcked(n: number): Promise<void>; drain(): Promise<void>; readonly sent: number } {
  let sent = 0
  let acked = 0
  let failure: Error | undefined
  const waiters: (() => void)[] = []
  const inbox = createInbox()
  nc.subscribe(`${inbox}.*`, {
    callback: (_err, m) => {
      // A JetStream error answer (stream full, no stream) fails the run: a baseline does not retry.
      if (m.data.length && m.string().includes('"error"')) failure ??= new Error(`publish failed: ${m.string()}`)
      acked++
      for (const w of waiters.splice(0)) w()
    },
  })
  const until = async (done: () => boolean): Promise<void> => {
    while (!done()) {
      if (failure) throw failure
      await new Promise<void>((r) => waiters.push(r))
    }
    if (failure) throw failure
  }
  return {
    get sent() {
      return sent
    },
    async publish(subject, data, msgId) {
      const h = headers()
      h.set('Nats-Msg-Id', msgId)
      nc.publish(subject, data, { reply: `${inbox}.${++sent}`, headers: h })
      if (sent - acked > window) await until(() => sent - acked <= window)
    },
    waitAcked: (n) => until(() => acked >= n),
    drain: () => until(() => acked >= sent),
  }
}

export async function ensureStream(nc: NatsConnection, name: string, subjects: string[]): Promise<void> {
  const jsm = await jetstreamManager(nc)
  await jsm.streams.add({ name, subjects, duplicate_window: 120_000_000_000 })
}

/** A single-owner durable (ack policy all: one ack settles a batch) fetched 1000 at a time, next fetch asked for in advance. */
export async function fetchLoop(nc: NatsConnection, stream: string, durable: string, filter: string, opts: { maxAckPending?: number } = {}): Promise<{ next(): Promise<JsMsg[]>; close(): Promise<void> }> {
  const jsm = await jetstreamManager(nc)
  await jsm.consumers.add(stream, { durable_name: durable, ack_policy: AckPolicy.All, max_ack_pending: opts.maxAckPending ?? 30_000, filter_subject: filter })
  const consumer = await jetstream(nc).consumers.get(stream, durable)
  const fetchBatch = async (): Promise<JsMsg[]> => {
    const out: JsMsg[] = []
    for await (const m of await consumer.fetch({ max_messages: 1000, expires: 1000 })) out.push(m)
    return out
  }
  let pending = fetchBatch()
  return {
    async next() {
      const b = await pending
      pending = fetchBatch()
      return b
    },
    // The fetch asked for in advance ends empty (or with the connection): nothing to process.
    close: () => pending.then(() => undefined, () => undefined),
  }
}
