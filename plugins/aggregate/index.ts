import { defineTransform, parseTimestamp, reject, type JsonObject, type JsonValue, type RecordMeta, type StatefulTransformProcessor, type TransformResult } from '../../core/plugin-api.js'
// The aggregate functions are window's, shared so both plugins mean the same by `sum(f)`.
import { Aggregator, parseAggregates, type Acc } from '../window/aggregates.js'
import { getPath, groupOf, setPath } from '../window/fields.js'

interface AggregateConfig {
  groupBy: string[]
  aggregate: Record<string, string>
  timeField?: string
  versionField: string
}

interface Group {
  values: JsonValue[]
  acc: Acc
  version: number
}

export default defineTransform<AggregateConfig>({
  open(ctx): StatefulTransformProcessor {
    const cfg = ctx.config
    const agg = new Aggregator(parseAggregates(cfg.aggregate))
    const paths = cfg.groupBy.map((f) => f.split('.'))
    const timePath = cfg.timeField?.split('.')
    const signature = `${cfg.groupBy.join(',')}/${agg.signature()}`
    let groups = new Map<string, Group>()
    // Input order for first/last without a time field: a counter that survives restarts with the state.
    let order = 0

    return {
      process(records: readonly JsonObject[], _meta?: readonly RecordMeta[]): TransformResult[] {
        const out: TransformResult[] = new Array(records.length)
        for (let i = 0; i < records.length; i++) {
          const r = records[i]!
          let time = order + 1
          if (timePath) {
            const v = getPath(r, timePath)
            const t = parseTimestamp(v)
            if (t === undefined) {
              out[i] = reject(`no event time: ${cfg.timeField} is ${v === undefined ? 'missing' : JSON.stringify(v)}, not a timestamp`)
              continue
            }
            time = t
          }
          const read = agg.read(r)
          if ('error' in read) {
            out[i] = reject(read.error)
            continue
          }
          order++
          const g = groupOf(r, paths)
          let group = groups.get(g.key)
          if (!group) {
            group = { values: g.values, acc: agg.init(), version: 0 }
            groups.set(g.key, group)
          }
          agg.add(group.acc, read.values, time)
          group.version++
          const rec: JsonObject = {}
          paths.forEach((p, j) => setPath(rec, p, group.values[j] ?? null))
          agg.result(group.acc, rec)
          rec[cfg.versionField] = group.version
          out[i] = rec
        }
        return out
      },
      snapshot(): JsonValue {
        return { v: 1, signature, order, groups: [...groups].map(([k, g]) => [k, g.values, agg.toJSON(g.acc), g.version]) }
      },
      restore(state: JsonValue): void {
        const s = state as { v?: number; signature?: string; order?: number; groups?: [string, JsonValue[], JsonValue, number][] } | null
        if (!s || s.v !== 1) throw new Error('the saved state is not an aggregate state (version 1)')
        if (s.signature !== signature) throw new Error(`the saved totals were built by another configuration (${s.signature}, now ${signature}); give the stage a new \`id\` to start afresh`)
        order = s.order ?? 0
        groups = new Map((s.groups ?? []).map(([k, values, acc, version]) => [k, { values, acc: agg.fromJSON(acc), version }]))
      },
    }
  },
})
