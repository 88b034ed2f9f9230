import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { startNatsServer } from '../helpers/nats-server.js'
import { clickhouseServerSkipReason, startClickHouseServer } from '../helpers/clickhouse-server.js'
import { makeTempDir } from '../helpers/tmp.js'
import { runPipelineFile } from '../../core/app/run-pipeline.js'
import { replayPipelineFile } from '../../core/replay/run-replay.js'
import { openClickHouse } from '../../core/clickhouse/open.js'
import type { ClickHouse } from '../../core/plugin-api.js'

// replay --into-table --swap against Debian's clickhouse-server 18.16: no EXCHANGE TABLES there,
// so the swap is one three-way RENAME.
const skip = clickhouseServerSkipReason()
if (skip) console.warn(skip)

describe.skipIf(skip !== undefined)('replay --into-table --swap on a ClickHouse 18.16 server', () => {
  let nats: Awaited<ReturnType<typeof startNatsServer>>
  let server: Awaited<ReturnType<typeof startClickHouseServer>>
  let tmp: Awaited<ReturnType<typeof makeTempDir>>
  let ch: ClickHouse

  beforeAll(async () => {
    ;[nats, server, tmp] = await Promise.all([startNatsServer(), startClickHouseServer(), makeTempDir('replay-server')])
    ch = await openClickHouse({ url: server.url, home: path.join(tmp.dir, 'home') })
  })

  afterAll(async () => {
    await ch?.close()
    await Promise.all([nats?.stop(), server?.stop()])
    await tmp?.remove()
  })

  const count = async (table: string): Promise<number> => Number((await ch.query<{ n: number }>(`SELECT count() AS n FROM ${table}`))[0]!.n)

  it('builds the new table like the original and swaps it in with RENAME', async () => {
    const values = Array.from({ length: 2500 }, (_, i) => i % 200)
    await writeFile(path.join(tmp.dir, 'in.ndjson'), values.map((v, i) => JSON.stringify({ id: i + 1, value: v })).join('\n') + '\n')
    const file = path.join(tmp.dir, 'p.yaml')
    const write = (where: string): Promise<void> =>
      writeFile(file, `name: srvreplay
source: { use: file, config: { path: in.ndjson, batchSize: 500 } }
transforms: [ { use: filter, config: { where: "${where}" } } ]
sinks:
  - use: clickhouse
    config: { url: "\${env:TEST_CH_URL}", table: srv_events, columns: { id: UInt64, value: Float64 }, orderBy: [id], batch: { maxWait: 100ms } }
`)
    const env = { ...process.env, NATS_URL: nats.url, TEST_CH_URL: server.url }
    const home = path.join(tmp.dir, 'home')
    await write('value > 100')
    expect((await runPipelineFile(file, { home, env })).completed).toBe(true)
    const before = values.filter((v) => v > 100).length
    expect(await count('srv_events')).toBe(before)

    await write('value > 150')
    const r = await replayPipelineFile(file, { home, env, intoTable: 'srv_events_v2', swap: true })
    expect(r).toMatchObject({ records: 2500, completed: true, table: { original: 'srv_events', into: 'srv_events_v2', swapped: 'rename' } })
    expect(await count('srv_events')).toBe(values.filter((v) => v > 150).length)
    expect(await count('srv_events_v2')).toBe(before)
    const [lo] = await ch.query<{ m: number }>('SELECT min(value) AS m FROM srv_events')
    expect(Number(lo!.m)).toBe(151)
  })
})
