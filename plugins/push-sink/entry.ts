import type { JsonObject } from '../../core/plugin-api.js'

/** One record of the channel, encoded once for every client that gets it. */
export interface Entry {
  /** Position in the channel's history stream: the SSE event id, the WebSocket message's `id`. */
  readonly seq: number
  readonly record: JsonObject
  /** `id: <seq>\ndata: <json>\n\n` */
  readonly sse: string
  /** `{"id":<seq>,"record":<json>}` */
  readonly ws: string
}

export function entry(seq: number, json: string, record: JsonObject): Entry {
  // JSON text has no raw newlines, so one `data:` line carries the whole record.
  return { seq, record, sse: `id: ${seq}\ndata: ${json}\n\n`, ws: `{"id":${seq},"record":${json}}` }
}
