import { describe, expect, it } from 'vitest'
import route from '../../plugins/route/index.js'
import { celCompiler } from '../../core/expr/cel.js'
import { isRejection, type JsonObject, type PluginContext } from '../../core/plugin-api.js'

async function run(config: object, records: JsonObject[]) {
  const ctx = { config, expressions: celCompiler } as unknown as PluginContext<never>
  const proc = await route.open(ctx as never)
  return proc.process(records)
}

describe('route transform', () => {
  const routes = [
    { name: 'eu', where: "country in ['FR', 'DE']" },
    { name: 'big', where: 'value > 100' },
  ]

  it('names the first matching branch, or drops a record no route matches', async () => {
    const out = await run({ routes, field: '_route', mode: 'first', otherwise: null }, [
      { country: 'FR', value: 500 },
      { country: 'US', value: 500 },
      { country: 'US', value: 5 },
    ])
    expect(out).toEqual([{ country: 'FR', value: 500, _route: 'eu' }, { country: 'US', value: 500, _route: 'big' }, null])
  })

  it('copies a record into every matching branch with mode all, and names the rest', async () => {
    const out = await run({ routes, field: 'team', mode: 'all', otherwise: 'rest' }, [
      { country: 'DE', value: 500 },
      { country: 'US', value: 5 },
    ])
    expect(out).toEqual([
      [{ country: 'DE', value: 500, team: 'eu' }, { country: 'DE', value: 500, team: 'big' }],
      { country: 'US', value: 5, team: 'rest' },
    ])
  })

  it('sends a record on which a condition fails to the DLQ with the reason', async () => {
    const [r] = await run({ routes, field: '_route', mode: 'first', otherwise: null }, [{ value: 1 }])
    expect(isRejection(r)).toBe(true)
  })
})
