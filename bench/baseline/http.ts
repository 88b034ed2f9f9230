/**
 * Raw-client baseline of the `http` scenario: an HTTP server taking NDJSON batches, each line
 * parsed and published to JetStream (core publish, own ack counting), answered 200 once its
 * records are acknowledged; a consumer inserting 10k-row batches into embedded ClickHouse. Exits
 * once `count` rows are inserted. Prints `listening <port>` on stderr.
 * argv: <nats url> <chdb dir> <stream name> <records to expect>
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { JsMsg } from '@nats-io/jetstream'
import { connectRaw, ensureStream, fetchLoop, openChdb, rawPublisher } from './raw-clients.js'

const [url, dir, stream, countArg] = process.argv.slice(2) as [string, string, string, string]
const count = Number(countArg)
const subject = `bench.${stream}.in`
const nc = await connectRaw(url)
await ensureStream(nc, stream, [`bench.${stream}.>`])
const ch = await openChdb(dir)
await ch.command('CREATE TABLE IF NOT EXISTS events (id UInt64, name String, value Float64, country String, ts String) ENGINE = MergeTree ORDER BY id')
const pub = rawPublisher(nc, 20_000)
const enc = new TextEncoder()
let id = 0

const server = createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    void (async () => {
      try {
        for (const line of Buffer.concat(chunks).toString('utf8').split('\n')) {
          if (!line) continue
          JSON.parse(line) // validate
          await pub.publish(subject, enc.encode(line), String(++id))
        }
        await pub.waitAcked(pub.sent)
        res.writeHead(200).end()
      } catch (err) {
        res.writeHead(500).end(String(err))
      }
    })()
  })
})
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
process.stderr.write(`listening ${(server.address() as AddressInfo).port}\n`)

const f = await fetchLoop(nc, stream, 'sink', subject)
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
    rows.push(dec.decode(m.data))
    last = m
  }
  consumed += batch.length
  if (rows.length >= 10_000 || batch.length === 0 || consumed >= count) await flush()
}
await f.close()
server.close()
server.closeAllConnections()
await nc.flush()
await nc.close()
await ch.close()
