/**
 * The floor: the seed design, the way a first version does it — every publish awaited
 * (`js.publish`), every message acked on its own, every row inserted on its own. On a small
 * input only; it shows what the batching levers are worth.
 * argv: <input.ndjson> <nats url> <chdb dir> <stream name>
 */
import { readFile } from 'node:fs/promises'
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connectRaw, openChdb } from './raw-clients.js'

const [file, url, dir, stream] = process.argv.slice(2) as [string, string, string, string]
const subject = `bench.${stream}.in`
const nc = await connectRaw(url)
const jsm = await jetstreamManager(nc)
await jsm.streams.add({ name: stream, subjects: [`bench.${stream}.>`] })
await jsm.consumers.add(stream, { durable_name: 'sink', ack_policy: AckPolicy.Explicit, filter_subject: subject })
const ch = await openChdb(dir)
await ch.command('CREATE TABLE IF NOT EXISTS events (id UInt64, name String, value Float64, doubled Float64) ENGINE = MergeTree ORDER BY id')
const js = jetstream(nc)
const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean)

const produce = (async () => {
  for (const line of lines) await js.publish(subject, line)
})()
const consumer = await js.consumers.get(stream, 'sink')
const messages = await consumer.consume()
let consumed = 0
for await (const m of messages) {
  const r = m.json<{ id: number; name: string; value: number }>()
  if (r.value > 100) await ch.insert('events', [JSON.stringify({ id: r.id, name: r.name, value: r.value, doubled: r.value * 2 })])
  m.ack()
  if (++consumed >= lines.length) break
}
await produce
await nc.flush()
await nc.close()
await ch.close()
