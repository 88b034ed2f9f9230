import { defineTransform, keyed, parseDuration, reject, tableKey, type CompiledExpression, type JsonObject, type JsonValue, type RecordMeta, type StatefulTransformProcessor, type TransformResult } from '../../core/plugin-api.js'
import { getPath } from '../window/fields.js'
import { recordTime, type TimeMode } from '../window/time.js'
import { IntervalJoin, type Side, type Unmatched } from './interval.js'
import { openLookupTable, type LookupTable } from './table.js'

interface JoinConfig {
  mode: 'stream' | 'table'
  on: string
  rightOn?: string
  type: 'inner' | 'left'
  left?: string
  right?: string
  other: 'drop' | 'reject'
  within?: string
  time: TimeMode
  timeField?: string
  lateness: string
  late: 'reject' | 'drop'
  table?: string
  into: 'merge' | 'nested'
  leftAs: string
  rightAs: string
}

const missing = (v: JsonValue | undefined): boolean => v === undefined || v === null

export default defineTransform<JoinConfig>({
  async open(ctx): Promise<StatefulTransformProcessor> {
    const cfg = ctx.config
    const onPath = cfg.on.split('.')
    const combine = (l: JsonObject, r: JsonObject | null): JsonObject => (cfg.into === 'nested' ? { [cfg.leftAs]: l, [cfg.rightAs]: r } : r ? { ...l, ...r } : { ...l })

    if (cfg.mode === 'table') {
      if (!cfg.table) throw new Error('`mode: table` needs `table`')
      const nats = await ctx.nats()
      let table: LookupTable
      try {
        table = await openLookupTable(nats.nc, cfg.table, ctx.logger)
      } catch (err) {
        await nats.close()
        throw err
      }
      return {
        process(records: readonly JsonObject[]): TransformResult[] {
          return records.map((r) => {
            const k = getPath(r, onPath)
            const row = missing(k) ? undefined : table.get(tableKey(k))
            if (row) return combine(r, row)
            return cfg.type === 'left' ? combine(r, null) : null
          })
        },
        // Lookups keep no state of their own: the table is in its KV bucket.
        snapshot: () => null,
        restore: () => undefined,
        async close() {
          table.close()
          await nats.close()
        },
      }
    }

    if (!cfg.left || !cfg.right || cfg.within === undefined) throw new Error('`mode: stream` needs `left`, `right` and `within`')
    const sides: [Side, CompiledExpression][] = [
      ['left', ctx.expressions.compile(cfg.left)],
      ['right', ctx.expressions.compile(cfg.right)],
    ]
    const keyPaths = { left: onPath, right: (cfg.rightOn ?? cfg.on).split('.') }
    const timePath = cfg.timeField?.split('.')
    const opts = { withinMs: parseDuration(cfg.within), latenessMs: parseDuration(cfg.lateness), type: cfg.type }
    let join = new IntervalJoin(opts)
    // An unmatched left record may be emitted by a later record, a tick or the end of input,
    // depending on timing: its key makes the output the same whichever emits it.
    const emitPairs = (pairs: [JsonObject, JsonObject][], unmatched: Unmatched[]): JsonObject[] => [...pairs.map(([l, r]) => combine(l, r)), ...unmatched.map((u) => keyed(combine(u.rec, null), `unmatched|${u.seq}`))]

    return {
      process(records: readonly JsonObject[], meta?: readonly RecordMeta[]): TransformResult[] {
        const out: TransformResult[] = new Array(records.length)
        for (let i = 0; i < records.length; i++) {
          const r = records[i]!
          let side: Side | undefined
          try {
            side = sides.find(([, e]) => e.test(r))?.[0]
          } catch (err) {
            out[i] = reject((err as Error).message)
            continue
          }
          if (!side) {
            out[i] = cfg.other === 'reject' ? reject('neither a left nor a right record') : null
            continue
          }
          const k = getPath(r, keyPaths[side])
          if (missing(k)) {
            out[i] = reject(`no join key: ${keyPaths[side].join('.')} is missing`)
            continue
          }
          const t = recordTime(r, meta?.[i], cfg.time, timePath)
          if (typeof t === 'string') {
            out[i] = reject(t)
            continue
          }
          const time = cfg.time === 'processing' ? Math.max(t, join.watermark) : t
          const res = join.add(side, JSON.stringify(k), r, time, meta?.[i]?.seq ?? 0)
          if (res.late) {
            out[i] = cfg.late === 'drop' ? null : reject(`late: time ${new Date(time).toISOString()} is more than ${cfg.within} behind the watermark ${new Date(join.watermark).toISOString()}`)
            continue
          }
          const emitted = emitPairs(res.matches, res.unmatched)
          out[i] = emitted.length ? emitted : null
        }
        return out
      },
      tick(watermarkMs: number): JsonObject[] {
        if (cfg.time !== 'processing') return []
        return emitPairs([], join.advance(watermarkMs - opts.latenessMs))
      },
      finish: (): JsonObject[] => emitPairs([], join.flush()),
      snapshot: (): JsonValue => ({ v: 1, join: join.snapshot() }),
      restore(state: JsonValue): void {
        const s = state as { v?: number; join?: JsonValue } | null
        if (!s || s.v !== 1) throw new Error('the saved state is not a join state (version 1)')
        join = new IntervalJoin(opts)
        join.restore(s.join ?? null)
      },
    }
  },
})
