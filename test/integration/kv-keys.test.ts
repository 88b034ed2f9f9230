import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { Kvm } from '@nats-io/kv'
import { startPipelineEnv, type PipelineEnv } from '../helpers/pipeline-env.js'
import { bucketKeys, kvKeys } from '../../core/jetstream/kv-keys.js'
import { kvLeaseStore, openLeaseBucket } from '../../core/lease/kv-store.js'
import { readStatusDocs, statusKey } from '../../core/status/heartbeat.js'
import { resolveTapTarget } from '../../core/tap/target.js'
import type { RuntimeStatusDoc } from '../../core/status/types.js'

// Key listings by one stream-info request (no kv.keys(), which can hang on a busy bucket on 2.9),
// through each place that lists keys: a bucket handle, the lease store, status docs and tap.
let t: PipelineEnv

beforeAll(async () => {
  t = await startPipelineEnv('kv-keys')
})

afterAll(async () => {
  await t?.close()
})

describe('listing KV keys without kv.keys()', () => {
  it('bucketKeys lists by filter; `live` leaves deleted and purged keys out, as kv.keys() does', async () => {
    const kv = await new Kvm(t.nc).create('listing')
    for (const k of ['a.position', 'b.position', 'c.position', 'a.other', '_runtime.x']) await kv.put(k, '1')
    await kv.put('a.position', '2') // a second revision: still one key
    await kv.delete('b.position')
    await kv.purge('c.position')
    expect(await bucketKeys(kv, '*.position')).toEqual(['a.position', 'b.position', 'c.position'])
    expect(await bucketKeys(kv, '*.position', { live: true })).toEqual(['a.position'])
    expect(await bucketKeys(kv)).toEqual(['_runtime.x', 'a.other', 'a.position', 'b.position', 'c.position'])
    expect(await kvKeys(await jetstreamManager(t.nc), 'listing', 'a.>')).toEqual(['a.other', 'a.position'])
  })

  it('the lease store lists live leases under a prefix', async () => {
    const { kv } = await openLeaseBucket(jetstream(t.nc), 'leases-listing', { ttlMs: 60_000 })
    const store = kvLeaseStore(kv)
    const r1 = await store.create('orders.source', JSON.stringify({ owner: 'a' }))
    const r2 = await store.create('orders.window', JSON.stringify({ owner: 'b' }))
    await store.create('other.source', JSON.stringify({ owner: 'c' }))
    expect(r1 && r2).toBeTruthy()
    expect(await store.keys('orders.')).toEqual(['orders.source', 'orders.window'])
    await store.delete('orders.window', r2!)
    expect(await store.keys('orders.')).toEqual(['orders.source'])
    expect(await store.keys()).toEqual(['orders.source', 'other.source'])
  })

  it('status docs are read from the bucket handle alone', async () => {
    const kv = await new Kvm(t.nc).create('trib-state-docs')
    const doc = (instance: string, updatedAt: string) => ({ instance, updatedAt }) as unknown as RuntimeStatusDoc
    await kv.put(statusKey('h-1'), JSON.stringify(doc('h-1', '2026-01-01T00:00:00.000Z')))
    await kv.put(statusKey('h-2'), JSON.stringify(doc('h-2', '2026-01-02T00:00:00.000Z')))
    await kv.put('stage.position', '{}')
    expect((await readStatusDocs(kv)).map((d) => d.instance)).toEqual(['h-2', 'h-1'])
  })

  it('tap finds the source stage by its saved position among several data subjects', async () => {
    const jsm = await jetstreamManager(t.nc)
    await jsm.streams.add({ name: 'TRIB_TAPPED', subjects: ['trib.tapped.>'] })
    const js = jetstream(t.nc)
    await js.publish('trib.tapped.src', '{}')
    await js.publish('trib.tapped.mid', '{}')
    await expect(resolveTapTarget(t.nc, 'tapped', undefined, 'NATS_URL')).rejects.toMatchObject({ code: 'E_USAGE' })
    const kv = await new Kvm(t.nc).create('trib-state-tapped')
    await kv.put('src.position', '{"line":1}')
    await kv.put('gone.position', '{"line":1}')
    await kv.delete('gone.position')
    expect(await resolveTapTarget(t.nc, 'tapped', undefined, 'NATS_URL')).toMatchObject({ stage: 'src', subject: 'trib.tapped.src', stored: 1 })
  })
})
