import { defineTransform, reject, type JsonObject, type JsonValue, type TransformResult } from 'tributary/plugin'
import { lookup, parseIPv4 } from './ip-table.js'

interface Config {
  field: string
  target: string
  onMissing: 'keep' | 'drop' | 'reject'
}

function get(record: JsonObject, path: string[]): JsonValue | undefined {
  let cur: JsonValue | undefined = record
  for (const key of path) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined
    cur = cur[key]
  }
  return cur
}

export default defineTransform<Config>({
  open(ctx) {
    const { field, target, onMissing } = ctx.config
    const path = field.split('.')
    const missing = (record: JsonObject, why: string): TransformResult => (onMissing === 'keep' ? record : onMissing === 'drop' ? null : reject(why))
    return {
      process(records) {
        // One result per record, in order: the enriched record, the record as it was, null or reject().
        return records.map((record): TransformResult => {
          const value = get(record, path)
          if (value === undefined || value === null) return missing(record, `no ${field} field`)
          const ip = typeof value === 'string' ? parseIPv4(value) : undefined
          if (ip === undefined) return reject(`${field} is not an IPv4 address: ${JSON.stringify(value)}`)
          const place = lookup(ip)
          if (!place) return missing(record, `${value} is in no range of the table`)
          return { ...record, [target]: { country: place.country, city: place.city } }
        })
      },
    }
  },
})
