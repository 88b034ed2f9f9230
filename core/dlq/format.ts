import type { JsonObject } from '../plugin-api.js'
import type { DlqEntry, RedriveSummary } from './types.js'

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s
}

function recordText(e: DlqEntry): string {
  return typeof e.record === 'string' ? e.record : JSON.stringify(e.record)
}

/** Rows for the `dlq list` table: one line per entry, long fields clipped. */
export function dlqRows(entries: readonly DlqEntry[]): JsonObject[] {
  return entries.map((e) => ({ seq: e.seq, stage: e.stage, code: e.code, tries: e.tries, time: e.time, reason: clip(e.reason, 60), record: clip(recordText(e), 40) }))
}

/** `dlq show`: every field, the record pretty-printed. */
export function formatEntry(e: DlqEntry): string {
  const lines = [
    `seq:            ${e.seq}`,
    `stage:          ${e.stage} (plugin ${e.plugin})`,
    `reason:         ${e.reason}`,
    `code:           ${e.code}`,
    `tries:          ${e.tries}`,
    `origin:         ${e.originSubject} #${e.originSeq}`,
    `time:           ${e.time}`,
    `epoch:          ${e.epoch}`,
    'record:',
    typeof e.record === 'string' ? e.record : JSON.stringify(e.record, null, 2),
  ]
  return lines.join('\n')
}

/** One sentence for `dlq replay`. */
export function formatRedrive(s: RedriveSummary): string {
  const parts: string[] = []
  if (s.recovered > 0) parts.push(`finished an interrupted redrive of ${s.recovered} entries`)
  const fresh = s.redriven - s.recovered
  if (fresh > 0 || parts.length === 0) {
    const targets = Object.entries(s.subjects).map(([subj, n]) => `${n} to ${subj}`).join(', ')
    parts.push(fresh === 0 ? 'no dead records to redrive' : `redrove ${fresh} dead ${fresh === 1 ? 'record' : 'records'} of pipeline ${s.pipeline} under epoch ${s.epoch}${targets ? ` (${targets})` : ''}`)
  }
  return parts.join('; ')
}
