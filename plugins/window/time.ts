import { parseTimestamp, type JsonObject, type RecordMeta } from '../../core/plugin-api.js'
import { getPath } from './fields.js'

/**
 * Where a stateful plugin takes a record's time from: `processing` is when the record entered
 * the stage's input stream (stable across restarts); `event` is a field of the record, or the
 * event time the source gave (`Trib-Event-Time`) when no field is named.
 */
export type TimeMode = 'processing' | 'event'
export type TimeFormat = 'iso' | 'ms' | 'seconds' | 'datetime'

/** The record's time in ms, or the reason it has none (the record is then rejected). */
export function recordTime(record: JsonObject, meta: RecordMeta | undefined, mode: TimeMode, field: readonly string[] | undefined): number | string {
  if (mode === 'processing') return meta?.arrivalTime ?? Date.now()
  if (field) {
    const v = getPath(record, field)
    const t = parseTimestamp(v)
    if (t === undefined) return `no event time: ${field.join('.')} is ${v === undefined ? 'missing' : JSON.stringify(v)}, not a timestamp (ms since the epoch or an ISO 8601 date-time)`
    return t
  }
  if (meta?.eventTime === undefined) return 'no event time: the source gave none (set `timeField` to read it from the record)'
  return meta.eventTime
}

/** A window bound as the output asks: ISO 8601, ms, seconds, or ClickHouse's `YYYY-MM-DD hh:mm:ss[.sss]` (UTC). */
export function formatTime(ms: number, f: TimeFormat): string | number {
  switch (f) {
    case 'ms':
      return ms
    case 'seconds':
      return Math.floor(ms / 1000)
    case 'datetime': {
      const iso = new Date(ms).toISOString()
      return ms % 1000 === 0 ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}` : `${iso.slice(0, 10)} ${iso.slice(11, 23)}`
    }
    default:
      return new Date(ms).toISOString()
  }
}
