import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { JsonObject } from '../../core/plugin-api.js'
import { builtinPluginsDir } from '../../core/plugins/registry.js'
import { runConformance } from '../../core/plugins/conformance/run.js'
import { formatConformanceReport } from '../../core/plugins/conformance/format.js'
import type { ConformanceReport } from '../../core/plugins/conformance/types.js'
import { makeTempDir } from '../helpers/tmp.js'

let tmp: { dir: string; remove(): Promise<void> }
beforeAll(async () => {
  tmp = await makeTempDir('conformance')
  await writeFile(path.join(tmp.dir, 'in.ndjson'), ['{"id":1,"value":150}', '{"id":2,"value":50}', 'not json', '{"id":4,"value":101}', '{"id":5,"value":7}'].join('\n') + '\n')
})
afterAll(() => tmp.remove())

/**
 * Built-ins whose hooks run here, with the config they need (stateful ones keep their state in
 * the suite's in-memory store). Every other built-in (ClickHouse, HTTP, NATS, sockets, SQL,
 * webhooks, KV tables, joins on them: they need a server or open a port) is checked at the
 * manifest level: manifest, code, engine, config schema and defaults — no hook runs.
 */
const FULL: Record<string, () => JsonObject> = {
  'file-source': () => ({ path: path.join(tmp.dir, 'in.ndjson'), batchSize: 2 }),
  generate: () => ({ template: { id: 'i', value: 'i % 7' }, count: 5, batchSize: 2 }),
  filter: () => ({ where: 'value > 100' }),
  map: () => ({ set: { double: 'value * 2' }, remove: ['tags'] }),
  stdout: () => ({}),
  'file-sink': () => ({ path: path.join(tmp.dir, 'out', 'sink.ndjson') }),
  split: () => ({ field: 'name' }),
  dedupe: () => ({ key: ['id'], within: '1m' }),
  aggregate: () => ({}),
  window: () => ({ every: '10s' }),
}

const builtins = (await readdir(builtinPluginsDir())).filter((d) => existsSync(path.join(builtinPluginsDir(), d, 'plugin.json'))).sort()

/** The stdout sink prints the records it writes; keep them out of the test output. */
async function quietStdout<T>(fn: () => Promise<T>): Promise<T> {
  const write = process.stdout.write.bind(process.stdout)
  process.stdout.write = ((_chunk: unknown, enc?: unknown, cb?: unknown) => {
    const done = typeof enc === 'function' ? enc : cb
    if (typeof done === 'function') (done as () => void)()
    return true
  }) as typeof process.stdout.write
  try {
    return await fn()
  } finally {
    process.stdout.write = write
  }
}

function status(rep: ConformanceReport): Record<string, string> {
  return Object.fromEntries(rep.checks.map((c) => [c.id, c.status]))
}

describe('every built-in plugin passes the conformance suite', () => {
  it.each(builtins)('%s', async (dir) => {
    const config = FULL[dir]?.()
    const rep = await quietStdout(() => runConformance({ dir: path.join(builtinPluginsDir(), dir), builtin: true }, config ? { config } : { level: 'manifest' }))
    expect(rep.ok, formatConformanceReport(rep)).toBe(true)
    expect(status(rep)).toMatchObject({ manifest: 'pass', load: 'pass', engine: 'pass' })
    if (config) {
      expect(status(rep)).toMatchObject({ config: 'pass', defaults: 'pass', open: 'pass', close: 'pass', handles: 'pass' })
    }
  })

  it('covers the fully exercised built-ins (a renamed folder would silently skip them)', () => {
    expect(builtins).toEqual(expect.arrayContaining(Object.keys(FULL)))
  })

  it('filter: rejects records its expression fails on (DLQ markers), passes the split-batch check', async () => {
    const rep = await runConformance({ dir: path.join(builtinPluginsDir(), 'filter'), builtin: true }, { config: { where: 'value > 100' } })
    expect(status(rep)).toMatchObject({ 'process-one-per-input': 'pass', 'reject-to-dlq': 'pass', 'batch-split': 'pass', 'outputs-json': 'pass' })
    expect(rep.dlq.filter((d) => d.check === 'reject-to-dlq').length).toBeGreaterThan(0)
    expect(rep.dlq.every((d) => d.reason.length > 0)).toBe(true)
  })

  it('file source: resumes after a checkpoint, and a malformed line is a DLQ item', async () => {
    const rep = await runConformance({ dir: path.join(builtinPluginsDir(), 'file-source'), builtin: true }, { config: FULL['file-source']!() })
    expect(status(rep)).toMatchObject({ read: 'pass', resume: 'pass' })
    expect(rep.dlq).toEqual([expect.objectContaining({ check: 'read', record: 'not json' })])
  })

  it('a plugin that needs config and gets none is checked up to its schema, hooks skipped', async () => {
    const rep = await runConformance({ dir: path.join(builtinPluginsDir(), 'filter'), builtin: true })
    expect(rep.ok).toBe(true)
    expect(status(rep)).toMatchObject({ config: 'skip', hooks: 'skip' })
    expect(rep.checks.find((c) => c.id === 'config')!.detail).toMatch(/missing required property "where"/)
  })
})

/** A plugin folder with plugin.json and plain-JS index.js (no import: it runs from any folder). */
async function plugin(name: string, kind: string, code: string, manifest: Record<string, unknown> = {}): Promise<string> {
  const dir = path.join(tmp.dir, name)
  await mkdir(dir, { recursive: true })
  const m = { name, version: '1.0.0', kind, entry: 'index.js', description: 'A test plugin.', engine: '>=0.1.0', config: { type: 'object' }, ...manifest }
  await writeFile(path.join(dir, 'plugin.json'), JSON.stringify(m, null, 2))
  await writeFile(path.join(dir, 'index.js'), code)
  return dir
}

describe('the suite catches broken plugins', () => {
  it('a transform returning fewer results than inputs', async () => {
    const dir = await plugin('short', 'transform', "export default { kind: 'transform', open: () => ({ process: (rs) => rs.slice(1) }) }\n")
    const rep = await runConformance({ dir })
    expect(rep.ok).toBe(false)
    expect(rep.checks.find((c) => c.id === 'process-one-per-input')).toMatchObject({ status: 'fail', detail: 'process() returned 5 results for 6 records; process() returned 0 results for 1 record' })
  })

  it('a transform that throws on an unexpected record instead of rejecting it', async () => {
    const dir = await plugin('thrower', 'transform', "export default { kind: 'transform', open: () => ({ process: (rs) => rs.map((r) => { if (typeof r.value !== 'number') throw new Error('value is not a number'); return r }) }) }\n")
    const rep = await runConformance({ dir })
    expect(rep.checks.find((c) => c.id === 'reject-to-dlq')).toMatchObject({ status: 'fail' })
    expect(rep.checks.find((c) => c.id === 'reject-to-dlq')!.detail).toMatch(/^process\(\) threw on an unexpected record \(value is not a number\); return reject\(reason\)/)
  })

  it('a rejection marker made without the API is still recognised (Symbol.for), and needs a reason', async () => {
    const dir = await plugin('rejects', 'transform', "const R = Symbol.for('tributary.reject')\nexport default { kind: 'transform', open: () => ({ process: (rs) => rs.map((r) => (r.id === 2 ? { [R]: true, reason: '' } : r)) }) }\n")
    const rep = await runConformance({ dir })
    expect(rep.checks.find((c) => c.id === 'process-one-per-input')).toMatchObject({ status: 'fail', detail: 'result 1 is a rejection without a reason' })
  })

  it('a plugin that leaves a timer running after close()', async () => {
    const timers = ((globalThis as { __leaky?: NodeJS.Timeout[] }).__leaky = [])
    const dir = await plugin('leaky', 'transform', "export default { kind: 'transform', open: () => { globalThis.__leaky.push(setInterval(() => {}, 60000)); return { process: (rs) => rs } } }\n")
    try {
      const rep = await runConformance({ dir })
      expect(rep.checks.find((c) => c.id === 'handles')).toMatchObject({ status: 'fail' })
      expect(rep.checks.find((c) => c.id === 'handles')!.detail).toMatch(/^after close\(\), still open: Timeout ×\d/)
    } finally {
      timers.forEach(clearInterval)
    }
  })

  it('a stateless transform whose output depends on batch boundaries gets a warning', async () => {
    const dir = await plugin('batchsize', 'transform', "export default { kind: 'transform', open: () => ({ process: (rs) => rs.map((r) => ({ ...r, batch: rs.length })) }) }\n")
    const rep = await runConformance({ dir })
    expect(rep.ok).toBe(true)
    expect(rep.checks.find((c) => c.id === 'batch-split')).toMatchObject({ status: 'warn' })
  })

  it('a sink rejecting an index outside the batch; a source whose offsets go backwards', async () => {
    const sink = await plugin('badsink', 'sink', "export default { kind: 'sink', open: () => ({ write: async (b) => ({ rejected: [{ index: b.records.length, reason: 'no' }] }) }) }\n")
    expect((await runConformance({ dir: sink })).checks.find((c) => c.id === 'write')).toMatchObject({ status: 'fail', detail: 'rejected index 6 is not the index of a record of the batch (0…5, each once)' })
    const source = await plugin('badsource', 'source', "export default { kind: 'source', open: () => ({ read: async () => ({ items: [{ offset: 2, value: {} }, { offset: 1, value: {} }], done: true }) }) }\n")
    expect((await runConformance({ dir: source })).checks.find((c) => c.id === 'read')).toMatchObject({ status: 'fail', detail: 'batch 1: item 1 has offset 1, not above the previous 2: offsets must increase (they make message ids)' })
  })

  it('a manifest error, a wrong default, an engine that excludes this version', async () => {
    const bad = await plugin('badmanifest', 'transfrom', "export default { kind: 'transform', open: () => ({ process: (rs) => rs }) }\n")
    const rep = await runConformance({ dir: bad })
    expect(rep.checks).toEqual([expect.objectContaining({ id: 'manifest', status: 'fail' })])
    expect(rep.checks[0]!.detail).toMatch(/kind: must be one of "source", "transform", "sink" .*\(did you mean `transform`\?\)/)

    const def = await plugin('baddefault', 'transform', "export default { kind: 'transform', open: () => ({ process: (rs) => rs }) }\n", {
      engine: '>=99.0.0',
      config: { type: 'object', properties: { every: { type: 'string', format: 'duration', default: '5 minutes', description: 'How often.' } } },
    })
    const rep2 = await runConformance({ dir: def })
    expect(status(rep2)).toMatchObject({ engine: 'fail', config: 'fail' })
    expect(rep2.checks.find((c) => c.id === 'config')!.detail).toMatch(/^a default in the config schema is invalid: every: must be a duration/)
  })
})
