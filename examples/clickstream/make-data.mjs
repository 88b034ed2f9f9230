// Writes users.csv and clicks.ndjson (deterministic: a seeded generator), the input of this example.
// Run: node examples/clickstream/make-data.mjs
import { writeFileSync } from 'node:fs'
import path from 'node:path'

const dir = path.dirname(new URL(import.meta.url).pathname)
let seed = 20260301
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
const pick = (a) => a[Math.floor(rand() * a.length)]

const countries = ['FR', 'DE', 'US', 'JP', 'BR']
const plans = ['free', 'pro']
const users = []
for (let i = 1; i <= 30; i++) users.push({ user_id: `u${String(i).padStart(2, '0')}`, name: `User ${i}`, country: pick(countries), plan: rand() < 0.3 ? 'pro' : 'free' })
// u31 clicks but is not in the table: the left join keeps its clicks with no country.
writeFileSync(path.join(dir, 'users.csv'), 'user_id,name,country,plan\n' + users.map((u) => `${u.user_id},${u.name},${u.country},${u.plan}`).join('\n') + '\n')

const pages = ['/', '/products', '/products/1', '/products/2', '/products/3', '/cart', '/checkout', '/about']
const start = Date.UTC(2026, 2, 1, 10, 0, 0)
const clicks = []
for (let i = 1; i <= 31; i++) {
  const user = `u${String(i).padStart(2, '0')}`
  let t = start + Math.floor(rand() * 20 * 60) * 1000
  const sessions = 1 + Math.floor(rand() * 3)
  for (let s = 0; s < sessions; s++) {
    const n = 2 + Math.floor(rand() * 10)
    for (let c = 0; c < n; c++) {
      clicks.push({ ts: t, user_id: user, page: c === 0 ? '/' : pick(pages) })
      t += 5_000 + Math.floor(rand() * 4 * 60) * 1000
    }
    t += 40 * 60_000 + Math.floor(rand() * 20 * 60) * 1000 // well over the 30m session gap
  }
}
clicks.sort((a, b) => a.ts - b.ts)
// A little disorder, as real collectors have: neighbours within 20 s may swap (lateness is 30 s).
for (let i = 1; i < clicks.length; i++) {
  if (clicks[i].ts - clicks[i - 1].ts < 20_000 && rand() < 0.3) [clicks[i - 1], clicks[i]] = [clicks[i], clicks[i - 1]]
}
// Two clicks that arrive two hours late: both pipelines send them to the dead-letter queue.
const lastTs = clicks[clicks.length - 1].ts
clicks.splice(clicks.length - 5, 0, { ts: lastTs - 2 * 3_600_000, user_id: 'u07', page: '/cart' })
clicks.push({ ts: lastTs - 2 * 3_600_000 - 60_000, user_id: 'u12', page: '/checkout' })
const iso = (ms) => new Date(ms).toISOString().replace('.000Z', 'Z') // whole seconds
writeFileSync(path.join(dir, 'clicks.ndjson'), clicks.map((c) => JSON.stringify({ ts: iso(c.ts), user_id: c.user_id, page: c.page })).join('\n') + '\n')
process.stderr.write(`users.csv: ${users.length} users; clicks.ndjson: ${clicks.length} clicks\n`)
