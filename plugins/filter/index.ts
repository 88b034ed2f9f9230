import { defineTransform, reject, type TransformResult } from '../../core/plugin-api.js'

interface FilterConfig {
  where: string
  onError: 'reject' | 'drop'
}

export default defineTransform<FilterConfig>({
  open(ctx) {
    const cond = ctx.expressions.compile(ctx.config.where)
    const onError = ctx.config.onError
    return {
      process(records) {
        const out: TransformResult[] = new Array(records.length)
        for (let i = 0; i < records.length; i++) {
          const r = records[i]!
          try {
            out[i] = cond.test(r) ? r : null
          } catch (err) {
            out[i] = onError === 'drop' ? null : reject((err as Error).message)
          }
        }
        return out
      },
    }
  },
})
