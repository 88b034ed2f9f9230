/**
 * The raw-client pipeline `npm run bench` compares Tributary with: the same job (file → JetStream
 * → filter + map + insert into embedded ClickHouse, one hop) written directly on nats.js and
 * chDB the most direct way (FACTS): core publish with own ack counting, fetch with the next one
 * asked for in advance, ack-all of the last message after each 10k-row insert.
 * argv: <input.ndjson> <nats url> <chdb dir> <stream name>
 */
import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import { connect } from '@nats-io/transport-node'
import { createInbox, headers } from '@nats-io/nats-core'
import { AckPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream'

const [file, url, dir, stream] = process.argv.slice(2) as [string, string, string, string]
const subject = `bench.${stream}.in`
const nc = await connect({ servers: url, noAsyncTraces: true })
const jsm = await jetstreamManager(nc)
await jsm.streams.add({ name: stream, subjects: [`bench.${stream}.>`], duplicate_window: 120_000_000_000 })
await jsm.consumers.add(stream, { durable_name: 'sink', ack_policy: AckPolicy.All, max_ack_pending: 30_000, filter_subject: subject })
const { createClient } = await import('@clickhouse/client')
const { createChdbConnection } = await import('chdb/connection')
const conn = createChdbConnection({ path: dir })
const ch = createClient({ connection: conn as unknown as NonNullable<Parameters<typeof createClient>[0]>['connection'] })
await ch.command({ query: 'CREATE TABLE IF NOT EXISTS events (id UInt64, name String, value Float64, doubled Float64) ENGINE = MergeTree ORDER BY id' })

// Producer: core publish with a reply inbox, JetStream acks counted on one subscription.
let total = 0
let acked = 0
let producing = true
const inbox = createInbox()
let wake: (() => void) | undefined
nc.subscribe(`${inbox}.*`, { callback: () => { acked++; wake?.() } })
const enc = new TextEncoder()
const produce = (async () => {
  const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity })
  for await (const line of rl) {
    if (!line) continue
    JSON.parse(line) // validate, as any honest source would
    const h = headers()
    h.set('Nats-Msg-Id', String(++total))
    nc.publish(subject, enc.encode(line), { reply: `${inbox}.${total}`, headers: h })
    while (total - acked > 4000) await new Promise<void>((r) => (wake = r))
  }
  while (acked < total) await new Promise<void>((r) => (wake = r))
  producing = false
})()

// Consumer: fetch 1000 at a time, next fetch requested before processing, 10k-row inserts.
const js = jetstream(nc)
const consumer = await js.consumers.get(stream, 'sink')
const dec = new TextDecoder()
let rows: string[] = []
let last: JsMsg | undefined
let consumed = 0
const fetchBatch = async (): Promise<JsMsg[]> => {
  const out: JsMsg[] = []
  for await (const m of await consumer.fetch({ max_messages: 1000, expires: 1000 })) out.push(m)
  return out
}
const flush = async (): Promise<void> => {
  if (rows.length) await conn.chdb.rawInsert({ table: 'events', values: rows.join('\n'), format: 'JSONEachRow', settings: { input_format_skip_unknown_fields: 1 } })
  rows = []
  last?.ack()
  last = undefined
}
let next = fetchBatch()
for (;;) {
  const batch = await next
  if (!producing && batch.length === 0 && consumed >= total) break
  next = fetchBatch()
  for (const m of batch) {
    const r = JSON.parse(dec.decode(m.data)) as { id: number; name: string; value: number }
    consumed++
    last = m
    if (!(r.value > 100)) continue
    rows.push(JSON.stringify({ id: r.id, name: r.name, value: r.value, doubled: r.value * 2 }))
  }
  if (rows.length >= 10_000 || batch.length === 0) await flush()
}
await flush()
await next.catch(() => undefined)
await produce
await nc.flush()
await nc.close()
await ch.close()
