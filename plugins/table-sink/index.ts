import { Kvm } from '@nats-io/kv'
import { defineSink, parseDuration, tableBucket, tableKey, type JsonObject, type JsonValue } from '../../core/plugin-api.js'

interface TableConfig {
  table: string
  key: string
  fields: string[]
  replicas: number
  batch: { rows: number; maxWait: string }
}

function get(record: JsonObject, path: string[]): JsonValue | undefined {
  let cur: JsonValue | undefined = record
  for (const k of path) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return undefined
    cur = cur[k]
  }
  return cur
}

export default defineSink<TableConfig>({
  async open(ctx) {
    const cfg = ctx.config
    const keyPath = cfg.key.split('.')
    const nats = await ctx.nats()
    const kv = await new Kvm(nats.nc).create(tableBucket(cfg.table), { history: 1, replicas: cfg.replicas }).catch(async (err: unknown) => {
      await nats.close()
      throw err
    })
    return {
      batching: { rows: cfg.batch.rows, bytes: 1 << 20, maxWaitMs: parseDuration(cfg.batch.maxWait) },
      async write(batch) {
        // The latest record of a key in the batch wins: puts of one key must not race each other.
        const latest = new Map<string, JsonObject>()
        const rejected: { index: number; reason: string }[] = []
        batch.records.forEach((r, index) => {
          const k = get(r, keyPath)
          if (k === undefined || k === null || (typeof k === 'object')) {
            rejected.push({ index, reason: `${cfg.key} is ${k === undefined ? 'missing' : JSON.stringify(k)}: a table key must be a string or a number` })
            return
          }
          const row: JsonObject = {}
          if (cfg.fields.length) for (const f of cfg.fields) row[f] = r[f] ?? null
          latest.set(tableKey(k), cfg.fields.length ? row : r)
        })
        await Promise.all([...latest].map(([k, row]) => kv.put(k, JSON.stringify(row))))
        return rejected.length ? { rejected } : undefined
      },
      close: () => nats.close(),
    }
  },
})
