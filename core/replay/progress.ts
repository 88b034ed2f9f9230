/** What a replay reports on stderr while it runs. */
export interface ReplayProgress {
  /** Inputs read so far (first deliveries, redrive copies skipped included). */
  done: number
  /** Inputs in the replayed range (an estimate while the live pipeline appends). */
  total: number
  elapsedMs: number
}

function compact(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`
  return String(Math.round(n))
}

function duration(ms: number): string {
  const s = Math.ceil(ms / 1000)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}

/** `replay: 12.0k/50.0k records (24%), 8.1k/s, ETA 5s` */
export function formatProgress(p: ReplayProgress): string {
  const total = Math.max(p.total, p.done)
  const pct = total === 0 ? 100 : Math.floor((100 * p.done) / total)
  const rate = p.elapsedMs > 0 ? (p.done * 1000) / p.elapsedMs : 0
  const eta = rate > 0 && total > p.done ? `, ETA ${duration(((total - p.done) / rate) * 1000)}` : ''
  return `replay: ${compact(p.done)}/${compact(total)} records (${pct}%), ${compact(rate)}/s${eta}`
}
