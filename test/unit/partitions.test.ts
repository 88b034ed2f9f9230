import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { ValidationError } from '../../core/errors.js'
import { loadPipelineFromText } from '../../core/pipeline/load.js'
import { createRegistry } from '../../core/plugins/registry.js'
import type { PluginRegistry } from '../../core/plugins/types.js'
import type { JsonObject } from '../../core/plugin-api.js'
import { fnv1a32, partitionKey, partitionOf } from '../../core/partitions/key.js'
import { parsePartitionConsumer, parsePartitionSubject, partitionConsumer, partitionSubject, stateHeadKey } from '../../core/partitions/names.js'
import { subjectRoute } from '../../core/partitions/route.js'
import { compileTopology, groupInputs, topologyConsumers } from '../../core/runtime/topology.js'
import { computePlan, planRefusals } from '../../core/pipeline/plan.js'
import { validateManifest } from '../../core/manifest/validate.js'
import { groupOf } from '../../plugins/window/fields.js'
import { repoRoot } from '../helpers/cli.js'

let registry: PluginRegistry
beforeAll(async () => {
  registry = await createRegistry({ builtinDir: path.join(repoRoot, 'plugins') })
})

describe('partition keys and the hash', () => {
  it('FNV-1a 32 over UTF-8: the published test vectors (the same in every process, forever)', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5)
    expect(fnv1a32('a')).toBe(0xe40c292c)
    expect(fnv1a32('foobar')).toBe(0xbf9cf968)
    // Multi-byte characters hash their UTF-8 bytes.
    expect(fnv1a32('é')).toBe(fnv1a32('\u00e9'))
    expect(fnv1a32('é')).not.toBe(fnv1a32('e'))
  })

  it('the key is what `window` groups by: the JSON of the values at the paths, missing as null', () => {
    const paths = [['user'], ['geo', 'country']]
    const records: JsonObject[] = [
      { user: 'u1', geo: { country: 'FR' } },
      { user: 'u1', geo: { country: 'FR' }, extra: 1 },
      { user: 1, geo: { country: 'FR' } },
      { user: 'u1' },
      { user: 'u1', geo: null },
      { geo: 'flat' },
    ]
    for (const r of records) expect(partitionKey(r, paths)).toBe(groupOf(r, paths).key)
    expect(partitionKey(records[0]!, paths)).toBe('["u1","FR"]')
    // A string "1" and a number 1 are different keys, as in the plugin.
    expect(partitionKey({ user: '1' }, [['user']])).not.toBe(partitionKey({ user: 1 }, [['user']]))
  })

  it('a key always maps to the same partition; keys spread over all of them', () => {
    const key = [['k']]
    // Pinned: a change of these numbers would split existing keys from their saved state.
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((i) => partitionOf({ k: `k${i}` }, key, 4))).toEqual(
      [0, 1, 2, 3, 4, 5, 6, 7].map((i) => fnv1a32(`["k${i}"]`) % 4),
    )
    expect(partitionOf({ k: 'k1', v: 1 }, key, 4)).toBe(partitionOf({ k: 'k1', v: 2 }, key, 4))
    const seen = new Set<number>()
    for (let i = 0; i < 200; i++) seen.add(partitionOf({ k: `user-${i}` }, key, 8))
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    expect(partitionOf({ k: 'x' }, key, 1)).toBe(0)
  })

  it('a record re-read from its JSON lands where the producer put it (undefined and NaN count as null)', () => {
    const route = subjectRoute('trib.p.src', { count: 5, key: [['a'], ['b']] })
    const inMemory: JsonObject = { a: 'x', b: Number.NaN as unknown as number, c: undefined as unknown as number }
    expect(route(JSON.parse(JSON.stringify(inMemory)) as JsonObject)).toBe(route(inMemory))
    expect(route({ a: 'x' })).toMatch(/^trib\.p\.src\.p[0-4]$/)
    expect(subjectRoute('trib.p.src')({ a: 'x' })).toBe('trib.p.src')
  })

  it('names: partition subjects, durables and state heads; one partition keeps the old names', () => {
    expect(partitionSubject('trib.p.file', 3)).toBe('trib.p.file.p3')
    expect(partitionConsumer('p--window', 0)).toBe('p--window--p0')
    expect(stateHeadKey('window')).toBe('window._state')
    expect(stateHeadKey('window', { index: 0, count: 1 })).toBe('window._state')
    expect(stateHeadKey('window', { index: 2, count: 4 })).toBe('window._state.p2')
    expect(parsePartitionSubject('trib.p.file.p12')).toEqual({ subject: 'trib.p.file', index: 12 })
    expect(parsePartitionSubject('trib.p.file')).toBeUndefined()
    expect(parsePartitionConsumer('p--window--p3')).toEqual({ consumer: 'p--window', index: 3 })
    expect(parsePartitionConsumer('p--window')).toBeUndefined()
  })
})

const load = (transforms: string, sinks = '[ { use: stdout } ]') => loadPipelineFromText(`name: p\nsource: { use: generate, config: { template: { k: "i" } } }\ntransforms:\n${transforms}\nsinks: ${sinks}\n`, '', registry, { env: {} })

async function issues(transforms: string, sinks?: string): Promise<string[]> {
  try {
    await load(transforms, sinks)
  } catch (err) {
    if (err instanceof ValidationError) return err.issues.map((i) => `${i.path}: ${i.message}`)
    throw err
  }
  throw new Error('the pipeline loaded')
}

describe('`partitions` in the pipeline file', () => {
  it('on a keyed stateful stage: the count and the key paths from the plugin`s partitionBy', async () => {
    const spec = await load('  - { use: window, partitions: 4, config: { every: 10s, groupBy: [user, geo.country] } }')
    expect(spec.transforms[0]).toMatchObject({ id: 'window', partitions: 4, partitionKey: ['user', 'geo.country'] })
    const one = await load('  - { use: window, config: { every: 10s, groupBy: [user] } }')
    expect(one.transforms[0]!.partitions).toBeUndefined()
    const join = await load('  - { use: join, partitions: 2, config: { on: order_id, left: "type == \'o\'", right: "type == \'p\'", within: 1m } }')
    expect(join.transforms[0]).toMatchObject({ partitions: 2, partitionKey: ['order_id'] })
    const dedupe = await load('  - { use: dedupe, partitions: 3, config: { key: [id], within: 10m } }')
    expect(dedupe.transforms[0]).toMatchObject({ partitions: 3, partitionKey: ['id'] })
  })

  it('refused where it cannot work, naming the stage and the fix', async () => {
    expect(await issues('  - { use: filter, id: keep, partitions: 4, config: { where: "true" } }')).toEqual([
      'transforms[0].partitions: stage "keep" (transform filter) cannot be split into partitions: only stateful transforms (window, dedupe, aggregate, join) are; a stateless stage scales out on its shared durable (fleet workers share it) — remove `partitions`',
    ])
    expect(await issues('  - { use: window, partitions: 4, config: { every: 10s } }')).toEqual([
      'transforms[0].partitions: stage "window" (transform window) has an empty `config.groupBy`: every record has the same key, so one partition would get them all — set `groupBy` to the fields that make a key, or remove `partitions`',
    ])
    expect(await issues('  - { use: join, partitions: 2, config: { on: id, rightOn: order_id, left: "t == 1", right: "t == 2", within: 1m } }')).toEqual([
      'transforms[0].partitions: stage "join" (transform join) cannot be split into partitions: `config.on` and `config.rightOn` name different key fields, so a record\'s partition would depend on which one applies to it — give both sides the same field name (a `map` before the stage) and drop `rightOn`, or remove `partitions`',
    ])
    const range = await issues('  - { use: window, partitions: 300, config: { every: 10s, groupBy: [k] } }')
    expect(range).toHaveLength(1)
    expect(range[0]).toMatch(/^transforms\[0\]\.partitions: must be <= 256/)
    expect(await issues('  - { use: window, partitions: 2.5, config: { every: 10s, groupBy: [k] } }')).toEqual([expect.stringMatching(/^transforms\[0\]\.partitions: must be integer/)])
    expect(await issues('  - { use: map, config: { set: { a: "1" } } }', '[ { use: stdout, partitions: 2 } ]')).toEqual(['sinks[0].partitions: unknown property "partitions"; allowed: id, use, config, where, boundary'])
  })

  it('a manifest declares its key on a stateful transform, naming a config field', () => {
    const base = { name: 'counter', version: '1.0.0', kind: 'transform', entry: 'index.js', description: 'd', engine: '>=0.1.0', config: { type: 'object', properties: { by: { type: 'array' } } } }
    expect(validateManifest({ ...base, stateful: true, partitionBy: 'by' }, 'plugin.json').partitionBy).toBe('by')
    const msgs = (m: object): string[] => {
      try {
        validateManifest(m, 'plugin.json')
      } catch (err) {
        return (err as ValidationError).issues.map((i) => `${i.path}: ${i.message}${i.suggestion ? ` (${i.suggestion})` : ''}`)
      }
      return []
    }
    expect(msgs({ ...base, stateful: true, partitionBy: 'bye' })).toEqual(['partitionBy: names "bye", which is not a property of `config` (by)'])
    expect(msgs({ ...base, partitionBy: 'by' })).toEqual(['partitionBy: only a stateful transform (`"kind": "transform"`, `"stateful": true`) declares a partition key'])
  })
})

describe('topology and plan of a split stage', () => {
  it('the producer routes to the partitions; each partition has its own durable', async () => {
    const stateful = (s: { use: string }): boolean => registry.get('transform', s.use)?.manifest.stateful === true
    const direct = compileTopology(await load('  - { use: window, partitions: 3, config: { every: 10s, groupBy: [k] } }'), stateful)
    expect(direct.sourcePartitioning).toEqual({ count: 3, key: [['k']] })
    expect(groupInputs(direct.groups[0]!)).toEqual([0, 1, 2].map((i) => ({ consumer: `p--window--p${i}`, subject: `trib.p.generate.p${i}`, partition: { index: i, count: 3 } })))
    const after = compileTopology(await load('  - { use: map, config: { set: { a: "1" } } }\n  - { use: dedupe, partitions: 2, config: { key: [a.b], last: 10 } }'), stateful)
    expect(after.sourcePartitioning).toBeUndefined()
    expect(after.groups[0]!.outputPartitioning).toEqual({ count: 2, key: [['a', 'b']] })
    expect(topologyConsumers(after)).toEqual(['p--map', 'p--dedupe--p0', 'p--dedupe--p1'])
  })

  it('the plan shows the partitions, and refuses another count than the stage ran with', async () => {
    const spec = await load('  - { use: window, partitions: 4, config: { every: 10s, groupBy: [k] } }')
    const current = { streamExists: true, streamMessages: 10, consumers: [], positions: {}, tables: {} }
    const plan = (partitions: Record<string, number>) => computePlan(spec, { ...current, partitions }, { consumers: [], tables: [] }).filter((i) => i.what === 'partitions')
    expect(plan({})).toEqual([{ action: 'create', what: 'partitions', name: 'window', detail: '4 key partitions by k' }])
    expect(plan({ window: 4 })).toEqual([{ action: 'keep', what: 'partitions', name: 'window', detail: '4 key partitions by k' }])
    const changed = computePlan(spec, { ...current, partitions: { window: 1 } }, { consumers: [], tables: [] })
    expect(planRefusals(changed)).toEqual([expect.objectContaining({ action: 'check', name: 'window', detail: expect.stringMatching(/^ran with 1 partition, now 4: refused/) })])
  })
})

describe('dlq replay onto a split stage', () => {
  it('puts a redriven record on its key partition’s subject, other subjects unchanged', async () => {
    const { onPartition } = await import('../../core/partitions/saved-routes.js')
    const routes = new Map([['trib.wc.file', subjectRoute('trib.wc.file', { count: 4, key: [['word']] })]])
    const enc = new TextEncoder()
    const rec = { word: 'river', n: 1 }
    const moved = onPartition({ subject: 'trib.wc.file', data: enc.encode(JSON.stringify(rec)) }, routes)
    expect(moved.subject).toBe(`trib.wc.file.p${partitionOf(rec, [['word']], 4)}`)
    expect(onPartition({ subject: 'trib.wc.split', data: enc.encode('{}') }, routes).subject).toBe('trib.wc.split')
    // Unreadable bytes still get a partition (the null key's): the stage dead-letters them again with the reason.
    expect(onPartition({ subject: 'trib.wc.file', data: enc.encode('not json') }, routes).subject).toBe(`trib.wc.file.p${partitionOf({}, [['word']], 4)}`)
  })
})
