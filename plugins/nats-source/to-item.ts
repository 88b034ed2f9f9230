import type { MsgHdrs } from '@nats-io/nats-core'
import type { JsonObject, SourceItem } from '../../core/plugin-api.js'

/** What core and JetStream messages have in common. */
export interface InMessage {
  subject: string
  data: Uint8Array
  headers?: MsgHdrs
}

export interface ItemOptions {
  format: 'json' | 'text'
  textField: string
  headersField?: string
  subjectField?: string
}

const decoder = new TextDecoder()

/**
 * A message becomes a record: its JSON object (`json`) or `{ <textField>: text }` (`text`), plus
 * its headers and subject in the fields named for them. A payload that is not a JSON object
 * becomes an error item (→ dead-letter queue) with the payload as it came.
 */
export function toItem(m: InMessage, offset: number, o: ItemOptions, eventTime?: number): SourceItem {
  const text = decoder.decode(m.data)
  let value: JsonObject
  if (o.format === 'text') {
    value = { [o.textField]: text }
  } else {
    let v: unknown
    try {
      v = JSON.parse(text)
    } catch (err) {
      return { offset, error: `message on ${m.subject}: not valid JSON: ${(err as Error).message}`, raw: text }
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return { offset, error: `message on ${m.subject}: a record must be a JSON object`, raw: text }
    // Nothing to add: keep the text as it came and save a stringify.
    if (!o.headersField && !o.subjectField) return { offset, json: text, ...(eventTime !== undefined && { eventTime }) }
    value = v as JsonObject
  }
  if (o.headersField) value[o.headersField] = headerObject(m.headers)
  if (o.subjectField) value[o.subjectField] = m.subject
  return { offset, value, ...(eventTime !== undefined && { eventTime }) }
}

/** Headers as `{ name: value }`; a header given several times has its values joined with ", ". */
function headerObject(h: MsgHdrs | undefined): JsonObject {
  const out: JsonObject = {}
  if (!h) return out
  for (const k of h.keys()) out[k] = h.values(k).join(', ')
  return out
}
