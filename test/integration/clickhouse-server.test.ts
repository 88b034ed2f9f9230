import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import path from 'node:path'
import { clickhouseServerSkipReason, opensslAvailable, startClickHouseServer, type ClickHouseServer } from '../helpers/clickhouse-server.js'
import { makeTempDir } from '../helpers/tmp.js'
import { openClickHouse } from '../../core/clickhouse/open.js'
import { features } from '../../core/clickhouse/features.js'
import { ensureTable } from '../../core/clickhouse/table.js'
import { ClickHouseFailure } from '../../core/clickhouse/errors.js'
import { TributaryError } from '../../core/errors.js'
import type { ClickHouse } from '../../core/plugin-api.js'

// Server mode against Debian's clickhouse-server 18.16 (CI installs it): a 2018 server without
// dedup tokens, dedup windows on plain MergeTree, query parameters or EXCHANGE TABLES.
const skip = clickhouseServerSkipReason()
if (skip) console.warn(skip)

describe.skipIf(skip !== undefined)('ClickHouse server mode (real clickhouse-server 18.16)', () => {
  let server: ClickHouseServer | undefined
  let tmp: Awaited<ReturnType<typeof makeTempDir>>
  let ch: ClickHouse

  beforeAll(async () => {
    tmp = await makeTempDir('ch-server')
    server = await startClickHouseServer({ tls: opensslAvailable() })
    ch = await openClickHouse({ url: server.url, home: path.join(tmp.dir, 'home') })
  })

  afterAll(async () => {
    await ch?.close()
    await server?.stop()
    await tmp?.remove()
  })

  it('creates a table, inserts JSONEachRow and reads 64-bit integers back as numbers', async () => {
    expect(ch.mode).toBe('server')
    const cols = await ensureTable(ch, { table: 'events', columns: { id: 'UInt64', name: 'String', value: 'Nullable(Float64)' }, orderBy: ['id'], dedupWindow: 100 })
    expect(cols).toEqual({ id: 'UInt64', name: 'String', value: 'Nullable(Float64)' })
    await ch.insert('events', [
      { id: 1, name: 'a', value: 1.5 },
      { id: 2, name: 'b', value: null },
    ])
    const rows = await ch.query<{ id: number; name: string; value: number | null }>('SELECT id, name, value FROM events ORDER BY id;')
    expect(rows).toEqual([
      { id: 1, name: 'a', value: 1.5 },
      { id: 2, name: 'b', value: null },
    ])
    const big = await ch.query('SELECT toUInt64(18446744073709551615) AS v, toInt64(-3) AS w')
    expect(big).toEqual([{ v: '18446744073709551615', w: -3 }])
  })

  it('detects what 18.16 lacks', async () => {
    const f = features(ch)
    expect(await f.version()).toBe('18.16.1')
    expect(await f.supportsDedupToken()).toBe(false)
    expect(await f.supportsDedupWindow()).toBe(false)
    expect(await f.supportsExchangeTables()).toBe(false)
    // Asked for a window, created without one: the server has no such setting.
    expect(await f.tableDedupWindow('events')).toBe(0)
  })

  it('checks an existing table against the columns, with 18.16 type spellings', async () => {
    await ch.command('CREATE TABLE legacy (a INT, b BIGINT, c TEXT) ENGINE = MergeTree ORDER BY tuple()')
    await expect(ensureTable(ch, { table: 'legacy', columns: { a: 'Int32', b: 'BIGINT', c: 'String' } })).resolves.toEqual({ a: 'Int32', b: 'Int64', c: 'String' })
    const err = (await ensureTable(ch, { table: 'legacy', columns: { a: 'Int64', c: 'Nullable(String)' } }).catch((e: unknown) => e)) as TributaryError
    expect(err.code).toBe('E_SCHEMA_MISMATCH')
    expect(err.message).toContain('column "a": the table has Int32, the sink writes Int64')
    expect(err.message).toContain('column "c": the table has String, the sink writes Nullable(String) (the sink allows null, the table does not)')
  })

  it('turns what 18.16 refuses into clear errors', async () => {
    const token = (await ch.insert('events', [{ id: 3, name: 'c', value: 1 }], { settings: { insert_deduplication_token: 'x' } }).catch((e: unknown) => e)) as ClickHouseFailure
    expect(token).toBeInstanceOf(ClickHouseFailure)
    expect(token.clickhouseCode).toBe(115)
    expect(token.message).toContain('Unknown setting insert_deduplication_token')

    const params = (await ch.query('SELECT {x:UInt8} AS x', { x: 1 }).catch((e: unknown) => e)) as ClickHouseFailure
    expect(params.message).toContain('does not support query parameters')

    const missing = (await ch.query('SELECT * FROM nope').catch((e: unknown) => e)) as ClickHouseFailure
    expect(missing.code).toBe('E_CLICKHOUSE')
    expect(missing.clickhouseCode).toBe(60)
    expect(missing.hint).toMatch(/create the table/)
  })

  it('says when the server cannot be reached', async () => {
    const err = (await openClickHouse({ url: 'http://127.0.0.1:1', home: tmp.dir }).catch((e: unknown) => e)) as ClickHouseFailure
    expect(err).toBeInstanceOf(ClickHouseFailure)
    expect(err.unavailable).toBe(true)
    expect(err.message).toBe('cannot connect: cannot reach ClickHouse at http://127.0.0.1:1 (ECONNREFUSED)')
    const auth = (await openClickHouse({ url: server!.url, user: 'nobody', password: 'x', home: tmp.dir }).catch((e: unknown) => e)) as ClickHouseFailure
    expect(auth.clickhouseCode).toBe(192)
    expect(auth.message).toMatch(/^cannot connect: Unknown user nobody/)
    expect(auth.hint).toBe('check the ClickHouse user and password')
  })

  it.skipIf(!opensslAvailable())('connects over https with a CA file, and explains an untrusted certificate', async () => {
    const tls = await openClickHouse({ url: server!.httpsUrl!, tls: { ca: server!.caFile! }, home: tmp.dir })
    try {
      expect(await tls.query('SELECT count() AS n FROM events')).toEqual([{ n: 2 }])
    } finally {
      await tls.close()
    }
    const untrusted = (await openClickHouse({ url: server!.httpsUrl!, home: tmp.dir }).catch((e: unknown) => e)) as ClickHouseFailure
    expect(untrusted.code).toBe('E_CLICKHOUSE')
    expect(untrusted.message).toMatch(/^cannot connect: the TLS certificate of ClickHouse at https:\/\/127\.0\.0\.1:\d+ is not trusted/)
    expect(untrusted.hint).toMatch(/tls\.ca/)
    const missing = (await openClickHouse({ url: server!.httpsUrl!, tls: { ca: '/nonexistent/ca.crt' }, home: tmp.dir }).catch((e: unknown) => e)) as TributaryError
    expect(missing.code).toBe('E_FILE')
  })
})
