/**
 * Raw-client baseline of the `replay` scenario: the records retained on a subject → filter + map
 * → a new table. An ordered consumer (no acks, no durable) reads from the first sequence to the
 * subject's last message at start; 10k-row inserts.
 * argv: <nats url> <chdb dir> <stream name>
 */
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connectRaw, openChdb } from './raw-clients.js'

const [url, dir, stream] = process.argv.slice(2) as [string, string, string]
const subject = `bench.${stream}.in`
const nc = await connectRaw(url)
const ch = await openChdb(dir)
await ch.command('CREATE TABLE IF NOT EXISTS events_replay (id UInt64, name String, value Float64, doubled Float64) ENGINE = MergeTree ORDER BY id')
const jsm = await jetstreamManager(nc)
const last = await jsm.streams.getMessage(stream, { last_by_subj: subject })
if (last) {
  const consumer = await jetstream(nc).consumers.get(stream, { filter_subjects: subject, deliver_policy: DeliverPolicy.All })
  const dec = new TextDecoder()
  let rows: string[] = []
  const messages = await consumer.consume({ max_messages: 1000 })
  for await (const m of messages) {
    const r = JSON.parse(dec.decode(m.data)) as { id: number; name: string; value: number }
    if (r.value > 100) rows.push(JSON.stringify({ id: r.id, name: r.name, value: r.value, doubled: r.value * 2 }))
    if (rows.length >= 10_000) {
      await ch.insert('events_replay', rows)
      rows = []
    }
    if (m.seq >= last.seq) break
  }
  await ch.insert('events_replay', rows)
  await consumer.delete().catch(() => undefined)
}
await nc.close()
await ch.close()
