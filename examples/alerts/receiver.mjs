#!/usr/bin/env node
// A stand-in for an alerting service (a chat webhook, a pager): prints every alert it receives,
// one line each, and answers 200. A request whose Idempotency-Key it has already seen is a retry
// of an alert it already has: it says so and does not print the alert again.
//
// Usage: node receiver.mjs [--port 9099]   (or PORT=9099). Any path is accepted.
import { createServer } from 'node:http'

const portArg = process.argv.indexOf('--port')
const port = Number(portArg > 0 ? process.argv[portArg + 1] : (process.env.PORT ?? 9099))
const seen = new Set()
let count = 0

const server = createServer((req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    const key = req.headers['idempotency-key'] ?? '(none)'
    let alert
    try {
      alert = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    } catch {
      res.writeHead(400).end('not JSON')
      return
    }
    if (seen.has(key)) console.log(`receiver: repeat of ${key}, ignored`)
    else {
      seen.add(key)
      console.log(`receiver: alert ${++count}: ${alert.boiler} at ${alert.temp} °C (${alert.at})  [${key}]`)
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
  })
})

server.listen(port, '127.0.0.1', () => console.log(`receiver: listening on http://127.0.0.1:${server.address().port}`))
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)).closeAllConnections())
