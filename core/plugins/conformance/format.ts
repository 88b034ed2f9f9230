import type { CheckStatus, ConformanceReport } from './types.js'

const MARK: Record<CheckStatus, string> = { pass: '✓', fail: '✗', warn: '!', skip: '-' }

/** The report as a terminal reads it: one line per check, multi-line details indented. */
export function formatConformanceReport(rep: ConformanceReport): string {
  const p = rep.plugin
  const head = p.name ? `${p.kind} plugin "${p.name}" ${p.version} (${p.dir})` : p.dir
  const width = Math.max(...rep.checks.map((c) => c.id.length))
  const lines = [`conformance: ${head}${rep.level === 'manifest' ? ' [manifest level]' : ''}`]
  for (const c of rep.checks) {
    const [first, ...rest] = c.detail.split('\n')
    lines.push(`  ${MARK[c.status]} ${c.id.padEnd(width)}  ${first}`)
    for (const l of rest) lines.push(`    ${' '.repeat(width)}${l}`)
  }
  if (rep.dlq.length) {
    lines.push(`  records sent to the dead-letter queue (${rep.dlq.length}):`)
    for (const d of rep.dlq.slice(0, 10)) lines.push(`    ${d.check}: ${d.reason}${d.record === undefined ? '' : `  ← ${JSON.stringify(d.record)}`}`)
  }
  const c = rep.counts
  lines.push(`${rep.ok ? 'PASS' : 'FAIL'}: ${c.pass} passed, ${c.fail} failed, ${c.warn} ${c.warn === 1 ? 'warning' : 'warnings'}, ${c.skip} skipped`)
  return lines.join('\n')
}
