#!/usr/bin/env node
// A small local stand-in for two JSON APIs, so the example runs without the internet. Its data is
// fixed (computed from ids), so every run gives the same records and the README's numbers hold.
//
//   GET /v1/orders?limit=10&after=N  the web shop: orders with id > N, oldest first, at most
//                                    `limit` (default 10) a page: {"data":[…],"has_more":bool}
//   GET /v1/pos/sales                the shops' tills: their latest sales, whole, on every call:
//                                    {"sales":[…]} (no cursor: the poller dedupes by sale id)
//
// Usage: node api.mjs [--port 8787]   (or PORT=8787). Prints one line per request it serves.
import { createServer } from 'node:http'

const portArg = process.argv.indexOf('--port')
const port = Number(portArg > 0 ? process.argv[portArg + 1] : (process.env.PORT ?? 8787))

const cents = (n) => Math.round(n * 100) / 100

// 45 web orders, ids 1..45; values 0.5..239.5, spread by a multiplier coprime with 240.
const orders = Array.from({ length: 45 }, (_, i) => {
  const id = i + 1
  return { id, customer: `c-${(id * 7) % 13}`, value: cents(((id * 53) % 240) + 0.5), currency: 'EUR' }
})

// 20 till sales, ids 5001..5020, in another shape: `sale_id`, `total`, `store`.
const stores = ['berlin', 'lyon', 'porto', 'turin']
const sales = Array.from({ length: 20 }, (_, i) => {
  const n = i + 1
  return { sale_id: 5000 + n, store: stores[n % stores.length], total: cents(((n * 31) % 180) + 20.25) }
})

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost')
  const what = `${req.method} ${url.pathname}${url.search}`
  if (req.method !== 'GET') return send(res, 405, { error: 'GET only' })
  if (url.pathname === '/v1/orders') {
    const after = Number(url.searchParams.get('after') ?? 0)
    const limit = Math.min(100, Number(url.searchParams.get('limit') ?? 10))
    if (!Number.isInteger(after) || !Number.isInteger(limit) || limit < 1) return send(res, 400, { error: 'after and limit must be integers' })
    const page = orders.filter((o) => o.id > after).slice(0, limit)
    const last = page.at(-1)?.id
    console.log(`api: ${what} -> ${page.length} orders${page.length ? ` (ids ${page[0].id}..${last})` : ''}`)
    return send(res, 200, { data: page, has_more: last !== undefined && last < orders.at(-1).id })
  }
  if (url.pathname === '/v1/pos/sales') {
    console.log(`api: ${what} -> ${sales.length} sales`)
    return send(res, 200, { sales })
  }
  console.log(`api: ${what} -> 404`)
  return send(res, 404, { error: 'no such endpoint' })
})

server.listen(port, '127.0.0.1', () => console.log(`api: listening on http://127.0.0.1:${server.address().port}`))
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)).closeAllConnections())
