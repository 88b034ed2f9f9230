import type { PipelineTestReport } from './types.js'

/** The report as a terminal reads it: ✓/✗ per test, and under a failure what differs. */
export function formatPipelineTestReport(rep: PipelineTestReport): string {
  const lines = [`${rep.file} (pipeline ${rep.pipeline}): ${rep.tests.length} ${rep.tests.length === 1 ? 'test' : 'tests'}`]
  for (const t of rep.tests) {
    lines.push(`  ${t.ok ? '✓' : '✗'} ${t.name}`)
    if (t.error) lines.push(`      error: ${t.error}`)
    for (const d of t.differences) {
      lines.push(`      ${d.what} differ:`)
      for (const l of d.diff.split('\n')) lines.push(`        ${l}`)
    }
  }
  lines.push(`${rep.ok ? 'PASS' : 'FAIL'}: ${rep.passed} passed, ${rep.failed} failed`)
  return lines.join('\n')
}
