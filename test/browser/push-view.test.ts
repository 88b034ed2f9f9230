/**
 * The push channel's live page in Debian's headless Chromium: records appended to the pipeline's
 * input appear in the page's table as they arrive; a visit without a token asks for one. A
 * screenshot of the page is kept in test-artifacts/ (gitignored).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { appendFile, mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { assertBuilt, repoRoot, spawnCli, waitFor, type Background } from '../helpers/cli.js'
import { startNatsServer, type TestNatsServer } from '../helpers/nats-server.js'
import { makeTempDir } from '../helpers/tmp.js'
import { startChromium, type TestChromium } from '../helpers/chromium.js'

const TOKEN = 'ops-dashboard-token-1'
const artifacts = path.join(repoRoot, 'test-artifacts')

let tmp: Awaited<ReturnType<typeof makeTempDir>>
let nats: TestNatsServer
let run: Background | undefined
let browser: TestChromium | undefined
let input: string
let url: string

async function feed(records: object[]): Promise<void> {
  await appendFile(input, records.map((r) => JSON.stringify(r)).join('\n') + '\n')
}

beforeAll(async () => {
  assertBuilt()
  ;[tmp, nats] = await Promise.all([makeTempDir('push-view'), startNatsServer()])
  input = path.join(tmp.dir, 'orders.ndjson')
  await writeFile(input, '')
  await writeFile(
    path.join(tmp.dir, 'view.yaml'),
    `name: pushview
source: { use: file, config: { path: orders.ndjson, follow: true, pollInterval: 20ms } }
metrics: { port: 0 }
sinks:
  - use: push
    config: { channel: ops, tokens: { ops: "\${env:OPS_TOKEN}" } }
`,
  )
  run = spawnCli(['run', path.join(tmp.dir, 'view.yaml')], { ...process.env, NATS_URL: nats.url, TRIBUTARY_HOME: path.join(tmp.dir, 'home'), OPS_TOKEN: TOKEN })
  url = await waitFor('the channel to serve', () => /"url":"(http:[^"]+\/push\/ops)"/.exec(run!.stderr())?.[1], 60_000)
  await waitFor('the pipeline to run', () => run!.stderr().includes('pipeline running'), 60_000)
  browser = await startChromium()
  await mkdir(artifacts, { recursive: true })
})

afterAll(async () => {
  await browser?.stop()
  if (run?.child.exitCode === null && run.child.pid) process.kill(run.child.pid, 'SIGTERM')
  await run?.exited
  await nats?.stop()
  await tmp?.remove()
})

describe('the live page at /push/<channel>/view (headless Chromium)', () => {
  it('shows records arriving as rows of a table, newest first', async () => {
    const page = await browser!.browser.contexts()[0]!.newPage()
    await page.goto(`${url}/view?token=${TOKEN}`)
    await page.locator('#status[data-state="live"]').waitFor({ timeout: 30_000 })
    // The token does not stay in the address bar.
    expect(page.url()).toBe(`${url}/view`)
    expect(await page.locator('#rows tbody tr').count()).toBe(0)

    await feed([
      { order: 'A-1', country: 'FR', value: 120 },
      { order: 'A-2', country: 'DE', value: 80 },
      { order: 'A-3', country: 'ES', value: 310 },
    ])
    await page.locator('#rows tbody tr').nth(2).waitFor({ timeout: 30_000 })
    await feed([
      { order: 'A-4', country: 'FR', value: 45 },
      { order: 'A-5', country: 'DE', value: 999 },
    ])
    await page.locator('#rows tbody tr[data-id="5"]').waitFor({ timeout: 30_000 })

    expect(await page.locator('#rows thead th').allTextContents()).toEqual(['id', 'order', 'country', 'value'])
    const rows = await page.locator('#rows tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)))
    expect(rows).toEqual([
      ['#5', 'A-5', 'DE', '999'],
      ['#4', 'A-4', 'FR', '45'],
      ['#3', 'A-3', 'ES', '310'],
      ['#2', 'A-2', 'DE', '80'],
      ['#1', 'A-1', 'FR', '120'],
    ])
    expect(await page.locator('#count').textContent()).toBe('5')
    expect(await page.locator('#last-id').textContent()).toBe('5')
    expect(await page.locator('#channel').textContent()).toBe('ops')
    await page.screenshot({ path: path.join(artifacts, 'push-view.png'), fullPage: true })
    await page.close()
  })

  it('asks for the token when the address has none, then shows the recent records; a filter narrows the table', async () => {
    const page = await browser!.browser.contexts()[0]!.newPage()
    const asked: string[] = []
    page.on('dialog', (d) => {
      asked.push(d.message())
      void d.accept(TOKEN)
    })
    await page.goto(`${url}/view`)
    await page.locator('#status[data-state="live"]').waitFor({ timeout: 30_000 })
    expect(asked).toEqual(['Token for channel ops'])
    // `last=50`: the five records from before it connected.
    await page.locator('#rows tbody tr[data-id="1"]').waitFor({ timeout: 30_000 })
    expect(await page.locator('#rows tbody tr').count()).toBe(5)

    await page.fill('#filter', 'value > 100')
    await page.click('#filter-form button')
    await page.locator('#rows tbody tr[data-id="5"]').waitFor({ timeout: 30_000 })
    await feed([{ order: 'A-6', country: 'ES', value: 150 }, { order: 'A-7', country: 'FR', value: 20 }])
    await page.locator('#rows tbody tr[data-id="6"]').waitFor({ timeout: 30_000 })
    const ids = await page.locator('#rows tbody tr').evaluateAll((trs) => trs.map((tr) => (tr as unknown as { dataset: { id?: string } }).dataset.id))
    expect(ids).toEqual(['6', '5', '3', '1'])
    expect(page.url()).toBe(`${url}/view?filter=value+%3E+100`)
    await page.screenshot({ path: path.join(artifacts, 'push-view-filtered.png'), fullPage: true })
    await page.close()
  })
})
