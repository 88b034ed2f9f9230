/**
 * Raw-client baseline of the `clickhouse-sink` scenario: records already in a stream → embedded
 * ClickHouse. One single-owner durable fetched 1000 at a time (next fetch asked for in advance),
 * each record parsed (a sink must not insert what is not a JSON object), 10k-row inserts,
 * ack-all of the last message after each insert.
 * argv: <nats url> <chdb dir> <stream name> <records in the stream>
 */
import type { JsMsg } from '@nats-io/jetstream'
import { connectRaw, fetchLoop, openChdb } from './raw-clients.js'

const [url, dir, stream, countArg] = process.argv.slice(2) as [string, string, string, string]
const count = Number(countArg)
const nc = await connectRaw(url)
const ch = await openChdb(dir)
await ch.command('CREATE TABLE IF NOT EXISTS events (id UInt64, name String, value Float64, country String, ts String) ENGINE = MergeTree ORDER BY id')
const f = await fetchLoop(nc, stream, 'sink', `bench.${stream}.in`)
const dec = new TextDecoder()
let rows: string[] = []
let last: JsMsg | undefined
let consumed = 0
const flush = async (): Promise<void> => {
  await ch.insert('events', rows)
  rows = []
  last?.ack()
  last = undefined
}
while (consumed < count) {
  const batch = await f.next()
  for (const m of batch) {
    const text = dec.decode(m.data)
    const r: unknown = JSON.parse(text)
    if (typeof r === 'object' && r !== null && !Array.isArray(r)) rows.push(text)
    last = m
  }
  consumed += batch.length
  if (rows.length >= 10_000 || batch.length === 0 || consumed >= count) await flush()
}
await f.close()
await nc.flush()
await nc.close()
await ch.close()
