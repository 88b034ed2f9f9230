import { describe, expect, it } from 'vitest'
import map from '../../plugins/map/index.js'
import { celCompiler } from '../../core/expr/cel.js'
import type { JsonObject, PluginContext } from '../../core/plugin-api.js'

async function run(config: object, records: JsonObject[]) {
  const ctx = { config: { set: {}, rename: {}, remove: [], onError: 'reject', ...config }, expressions: celCompiler } as unknown as PluginContext<never>
  const proc = await map.open(ctx as never)
  return proc.process(records)
}

describe('map transform', () => {
  it('sets from the input record, removes fields, and leaves the input untouched', async () => {
    const input = { id: 1, value: 3, debug: 'x', ts: 't' }
    const [out] = await run({ set: { doubled: 'value * 2', 'meta.src': "'file'" }, remove: ['debug', 'ts'] }, [input])
    expect(out).toEqual({ id: 1, value: 3, doubled: 6, meta: { src: 'file' } })
    expect(Object.keys(out as JsonObject)).toEqual(['id', 'value', 'doubled', 'meta'])
    expect(input).toEqual({ id: 1, value: 3, debug: 'x', ts: 't' })
  })

  it('removes a field that is also set (remove comes last), and ignores absent ones', async () => {
    const [out] = await run({ set: { value: 'value + 1', extra: '1' }, remove: ['value', 'missing'] }, [{ id: 1, value: 3 }])
    expect(out).toEqual({ id: 1, extra: 1 })
  })

  it('renames in order, then removes', async () => {
    const [out] = await run({ rename: { a: 'b', b: 'c' }, remove: ['z'] }, [{ a: 1, z: 0, keep: true }])
    expect(out).toEqual({ c: 1, keep: true })
    const [swap] = await run({ rename: { a: 'tmp', b: 'a', tmp: 'b' } }, [{ a: 1, b: 2 }])
    expect(swap).toEqual({ a: 2, b: 1 })
  })
})
