import { defineSource, sleep, type JsonObject, type SourceItem } from '../../core/plugin-api.js'

interface GenerateConfig {
  template: Record<string, string>
  count?: number
  rate: number
  batchSize: number
}

export default defineSource<GenerateConfig>({
  open(ctx) {
    const cfg = ctx.config
    const fields = Object.entries(cfg.template).map(([k, src]) => [k, ctx.expressions.compile(src)] as const)
    // Resume after the last index JetStream acknowledged: the same i gives the same record id.
    let next = typeof ctx.checkpoint === 'number' ? ctx.checkpoint : 0
    const started = Date.now()
    const startIndex = next
    return {
      async read() {
        const remaining = cfg.count === undefined ? Infinity : cfg.count - next
        if (remaining <= 0) return { items: [], done: true, checkpoint: next }
        let n = Math.min(cfg.batchSize, remaining)
        if (cfg.rate > 0) {
          // Pace by wall clock since start, in slices small enough to keep latency low.
          n = Math.min(n, Math.max(1, Math.ceil(cfg.rate / 10)))
          const due = started + ((next - startIndex + n) / cfg.rate) * 1000
          const delay = due - Date.now()
          if (delay > 0) await sleep(delay, ctx.signal)
        }
        const now = Date.now()
        const items: SourceItem[] = new Array(n)
        for (let j = 0; j < n; j++) {
          const i = next + j
          const value: JsonObject = {}
          for (const [k, e] of fields) value[k] = e.evaluate({ i, now })
          items[j] = { offset: i + 1, value, eventTime: now }
        }
        next += n
        return { items, checkpoint: next, done: cfg.count !== undefined && next >= cfg.count }
      },
    }
  },
})
