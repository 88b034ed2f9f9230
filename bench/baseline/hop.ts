/**
 * Raw-client baseline of the `hop` scenario: file → JetStream → filter → JetStream → map + insert
 * into embedded ClickHouse. Stage 1 republishes the passing records (own ack tracking) and acks
 * its inputs (ack-all, single owner) once they are stored; stage 2 inserts 10k-row batches.
 * argv: <input.ndjson> <nats url> <chdb dir> <stream name>
 */
import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import type { JsMsg } from '@nats-io/jetstream'
import { connectRaw, ensureStream, fetchLoop, openChdb, rawPublisher } from './raw-clients.js'

const [file, url, dir, stream] = process.argv.slice(2) as [string, string, string, string]
const input = `bench.${stream}.in`
const filtered = `bench.${stream}.filtered`
const nc = await connectRaw(url)
await ensureStream(nc, stream, [`bench.${stream}.>`])
const ch = await openChdb(dir)
await ch.command('CREATE TABLE IF NOT EXISTS events (id UInt64, name String, value Float64, doubled Float64) ENGINE = MergeTree ORDER BY id')
const enc = new TextEncoder()
const dec = new TextDecoder()

let total = 0
let produced = false
const produce = (async () => {
  const pub = rawPublisher(nc)
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    if (!line) continue
    JSON.parse(line) // validate, as any honest source would
    await pub.publish(input, enc.encode(line), String(++total))
  }
  await pub.drain()
  produced = true
})()

let passed = 0
let filterDone = false
const filterStage = (async () => {
  const f = await fetchLoop(nc, stream, 'filter', input)
  const pub = rawPublisher(nc)
  let consumed = 0
  for (;;) {
    const batch = await f.next()
    if (batch.length === 0) {
      if (produced && consumed >= total) break
      continue
    }
    for (const m of batch) {
      consumed++
      const r = JSON.parse(dec.decode(m.data)) as { value: number }
      if (r.value > 100) {
        passed++
        await pub.publish(filtered, m.data, `f:${m.seq}`)
      }
    }
    await pub.drain()
    batch[batch.length - 1]!.ack()
  }
  await f.close()
  filterDone = true
})()

const sink = await fetchLoop(nc, stream, 'sink', filtered)
let rows: string[] = []
let last: JsMsg | undefined
let consumed = 0
const flush = async (): Promise<void> => {
  await ch.insert('events', rows)
  rows = []
  last?.ack()
  last = undefined
}
for (;;) {
  const batch = await sink.next()
  for (const m of batch) {
    const r = JSON.parse(dec.decode(m.data)) as { id: number; name: string; value: number }
    rows.push(JSON.stringify({ id: r.id, name: r.name, value: r.value, doubled: r.value * 2 }))
    last = m
  }
  consumed += batch.length
  if (rows.length >= 10_000 || batch.length === 0) await flush()
  if (batch.length === 0 && filterDone && consumed >= passed) break
}
await sink.close()
await Promise.all([produce, filterStage])
await nc.flush()
await nc.close()
await ch.close()
