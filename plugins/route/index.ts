import { defineTransform, reject, type TransformResult } from '../../core/plugin-api.js'

interface RouteConfig {
  routes: { name: string; where: string }[]
  field: string
  mode: 'first' | 'all'
  otherwise: string | null
}

export default defineTransform<RouteConfig>({
  open(ctx) {
    const { field, mode, otherwise } = ctx.config
    const routes = ctx.config.routes.map((r) => ({ name: r.name, cond: ctx.expressions.compile(r.where) }))
    return {
      process(records) {
        const out: TransformResult[] = new Array(records.length)
        for (let i = 0; i < records.length; i++) {
          const r = records[i]!
          try {
            const names: string[] = []
            for (const route of routes) {
              if (!route.cond.test(r)) continue
              names.push(route.name)
              if (mode === 'first') break
            }
            if (names.length === 0 && otherwise !== null) names.push(otherwise)
            out[i] = names.length === 0 ? null : names.length === 1 ? { ...r, [field]: names[0]! } : names.map((n) => ({ ...r, [field]: n }))
          } catch (err) {
            out[i] = reject((err as Error).message)
          }
        }
        return out
      },
    }
  },
})
