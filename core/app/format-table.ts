import type { JsonObject } from '../plugin-api.js'

/** Renders rows as an aligned text table for a terminal (JSON output has its own flag). */
export function formatTable(rows: readonly JsonObject[]): string {
  if (rows.length === 0) return '(0 rows)'
  const cols = Object.keys(rows[0]!)
  const cell = (v: unknown): string => (v === null || v === undefined ? 'NULL' : typeof v === 'object' ? JSON.stringify(v) : String(v))
  const cells = rows.map((r) => cols.map((c) => cell(r[c])))
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)))
  const isNum = cols.map((c) => rows.every((r) => typeof r[c] === 'number'))
  const fmt = (vals: string[], header = false): string =>
    vals.map((v, i) => (isNum[i] && !header ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ').trimEnd()
  const lines = [fmt(cols, true), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map((c) => fmt(c))]
  lines.push(`(${rows.length} ${rows.length === 1 ? 'row' : 'rows'})`)
  return lines.join('\n')
}
