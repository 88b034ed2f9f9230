/**
 * `npm run bench:isolation`: what running a community plugin isolated costs per batch. The same
 * pass-through transform is called in-process (as a built-in is) and through isolate() (its own
 * sandboxed process: bubblewrap namespaces + Node's permission model, one frame per batch), on
 * batches of the bench's ~130-byte records. Prints µs per batch and records/s for each, the
 * difference, and the time to start an isolated stage. Not a test: it never fails on a time.
 *
 *   node dist/bench/isolation.js [--batch 1000] [--batches 400]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { pathToFileURL } from 'node:url'
import type { JsonObject, PluginContext, TransformDefinition, TransformProcessor } from '../core/plugin-api.js'
import { readPlugin } from '../core/plugins/registry.js'
import { isolate } from '../core/isolation/isolate.js'
import { probeSandbox } from '../core/isolation/sandbox-probe.js'
import { DEFAULT_ISOLATION } from '../core/isolation/types.js'
import { inputLine } from './input.js'

const { values } = parseArgs({ options: { batch: { type: 'string', default: '1000' }, batches: { type: 'string', default: '400' } } })
const batchSize = Number(values.batch)
const batches = Number(values.batches)

const PASS = `export default { kind: 'transform', open() { return { process(records) { return records } } } }\n`

function context(): PluginContext {
  const quiet = { debug() {}, info() {}, warn() {}, error() {} }
  return {
    pipeline: 'bench',
    stageId: 'pass',
    config: {},
    logger: quiet,
    signal: new AbortController().signal,
    baseDir: os.tmpdir(),
    state: { get: async () => undefined, put: async () => undefined },
    expressions: { compile: () => { throw new Error('unused') } },
    clickhouse: () => Promise.reject(new Error('unused')),
    nats: () => Promise.reject(new Error('unused')),
    http: { url: undefined, route: () => { throw new Error('unused') } },
    metrics: { counter: () => ({ inc() {} }), gauge: () => ({ set() {}, inc() {}, dec() {} }) },
  }
}

interface Timing {
  usPerBatch: number
  p99Us: number
  recordsPerS: number
}

async function measure(proc: TransformProcessor, records: JsonObject[]): Promise<Timing> {
  for (let i = 0; i < 50; i++) await proc.process(records) // warm up both sides' JIT
  const each: number[] = []
  const t0 = performance.now()
  for (let i = 0; i < batches; i++) {
    const s = performance.now()
    const out = await proc.process(records)
    if (out.length !== records.length) throw new Error('a pass-through lost records')
    each.push(performance.now() - s)
  }
  const ms = performance.now() - t0
  each.sort((a, b) => a - b)
  return { usPerBatch: (ms * 1000) / batches, p99Us: each[Math.floor(each.length * 0.99)]! * 1000, recordsPerS: (batches * records.length) / (ms / 1000) }
}

async function main(): Promise<void> {
  const support = await probeSandbox()
  const dir = await mkdtemp(path.join(os.tmpdir(), 'trib-bench-iso-'))
  try {
    await writeFile(path.join(dir, 'index.js'), PASS)
    await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'pass', version: '1.0.0', type: 'module' }))
    await writeFile(path.join(dir, 'plugin.json'), JSON.stringify({ name: 'pass', version: '1.0.0', kind: 'transform', entry: 'index.js', engine: '*', description: 'Pass-through (bench).', config: { type: 'object' } }))
    const records = Array.from({ length: batchSize }, (_, i) => JSON.parse(inputLine(i + 1)) as JsonObject)
    const bytes = records.reduce((n, r) => n + JSON.stringify(r).length, 0)

    // The same module, imported here: what a built-in costs.
    const mod = (await import(pathToFileURL(path.join(dir, 'index.js')).href)) as { default: TransformDefinition }
    const inproc = await mod.default.open(context() as never)
    const base = await measure(inproc, records)

    const settings = { ...DEFAULT_ISOLATION, namespaces: 'if-available' as const }
    const def = isolate(await readPlugin(dir, false), settings) as TransformDefinition
    const started = performance.now()
    const proc = await def.open(context() as never)
    const startMs = performance.now() - started
    const iso = await measure(proc, records)
    await proc.close?.()

    const row = (name: string, t: Timing): string => `${name.padEnd(34)} ${t.usPerBatch.toFixed(0).padStart(9)} ${t.p99Us.toFixed(0).padStart(9)} ${Math.round(t.recordsPerS).toLocaleString('en-US').padStart(12)}`
    process.stdout.write(`isolation overhead: pass-through transform, ${batches} batches of ${batchSize} records (${Math.round(bytes / batchSize)} bytes of JSON each)\n`)
    process.stdout.write(`sandbox: ${support.ok ? 'bubblewrap namespaces + Node permission model' : `Node permission model only (${support.reason})`}\n\n`)
    process.stdout.write(`${'mode'.padEnd(34)} ${'µs/batch'.padStart(9)} ${'p99 µs'.padStart(9)} ${'records/s'.padStart(12)}\n`)
    process.stdout.write(`${row('in-process (built-in)', base)}\n${row('isolated (community)', iso)}\n`)
    process.stdout.write(`\nadded per batch: ${(iso.usPerBatch - base.usPerBatch).toFixed(0)} µs (${((iso.usPerBatch - base.usPerBatch) / batchSize).toFixed(2)} µs per record); starting an isolated stage: ${startMs.toFixed(0)} ms\n`)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

await main()
