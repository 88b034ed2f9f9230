import { defineTransform, parseDuration, reject, type JsonObject, type JsonValue, type RecordMeta, type StatefulTransformProcessor, type TransformResult } from '../../core/plugin-api.js'
import { groupOf } from '../window/fields.js'
import { recordTime, type TimeMode } from '../window/time.js'
import { DedupeMemory } from './memory.js'

interface DedupeConfig {
  key: string[]
  within?: string
  last?: number
  time: TimeMode
  timeField?: string
}

export default defineTransform<DedupeConfig>({
  open(ctx): StatefulTransformProcessor {
    const cfg = ctx.config
    if (cfg.within === undefined && cfg.last === undefined) throw new Error('dedupe needs a horizon: `within` (a duration) or `last` (a number of keys)')
    const paths = cfg.key.map((k) => k.split('.'))
    const timePath = cfg.timeField?.split('.')
    const withinMs = cfg.within === undefined ? undefined : parseDuration(cfg.within)
    let memory = new DedupeMemory({ withinMs, last: cfg.last })
    return {
      process(records: readonly JsonObject[], meta?: readonly RecordMeta[]): TransformResult[] {
        const out: TransformResult[] = new Array(records.length)
        for (let i = 0; i < records.length; i++) {
          const r = records[i]!
          let time = 0
          if (withinMs !== undefined) {
            const t = recordTime(r, meta?.[i], cfg.time, timePath)
            if (typeof t === 'string') {
              out[i] = reject(t)
              continue
            }
            time = t
          }
          const key = paths.length ? groupOf(r, paths).key : JSON.stringify(r)
          out[i] = memory.seen(key, time) ? null : r
        }
        return out
      },
      snapshot: (): JsonValue => memory.toJSON(),
      restore(state: JsonValue): void {
        memory = new DedupeMemory({ withinMs, last: cfg.last })
        memory.load(state)
      },
    }
  },
})
