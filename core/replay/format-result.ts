import type { ReplayResult } from './types.js'

/** The one-paragraph outcome of `tributary replay`. */
export function formatReplayResult(r: ReplayResult): string {
  if (r.epoch === 0) return `nothing to replay for pipeline ${r.pipeline}: no retained records on its source subject in that range`
  const parts = [`${r.completed ? 'replayed' : 'interrupted after'} ${r.records} ${r.records === 1 ? 'record' : 'records'} of pipeline ${r.pipeline} (sequences ${r.fromSeq}–${r.toSeq}) under epoch ${r.epoch}`]
  if (r.table) parts.push(`into table ${r.table.into}`)
  if (r.skipped > 0) parts.push(`${r.skipped} redriven ${r.skipped === 1 ? 'copy' : 'copies'} skipped (their originals were replayed)`)
  if (r.dead > 0) parts.push(`${r.dead} to the dead-letter queue`)
  if (r.table?.swapped) parts.push(`then swapped with ${r.table.original} (${r.table.swapped === 'exchange' ? 'EXCHANGE TABLES' : 'RENAME'}): ${r.table.original} holds the replayed data, ${r.table.into} the previous data`)
  else if (r.table && !r.completed) parts.push('not swapped')
  return parts.join('; ')
}
