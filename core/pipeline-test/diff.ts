/**
 * Readable differences between expected and actual record lists: a line diff of the records
 * (one canonical JSON line each, keys sorted) with, under each changed record, the fields that
 * differ. Like `vector test`, the point is to see at once which record and which field.
 */
type Json = null | boolean | number | string | Json[] | { [k: string]: Json }

/** JSON with object keys sorted, so key order never counts as a difference. */
export function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x))
}

type Op = { op: ' ' | '-' | '+'; value: unknown }

/** Longest-common-subsequence edit script over canonical lines. */
function editScript(expected: unknown[], actual: unknown[]): Op[] {
  const a = expected.map(canonical)
  const b = actual.map(canonical)
  const n = a.length
  const m = b.length
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0))
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!)
  const ops: Op[] = []
  let i = 0
  let j = 0
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push({ op: ' ', value: expected[i++] })
      j++
    } else if (i < n && (j === m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) ops.push({ op: '-', value: expected[i++] })
    else ops.push({ op: '+', value: actual[j++] })
  }
  return ops
}

/** Fields that differ between two records, as `.path: expected X, received Y`. */
export function fieldDifferences(expected: unknown, actual: unknown, at = ''): string[] {
  if (canonical(expected) === canonical(actual)) return []
  const isObj = (v: unknown): v is Record<string, Json> => v !== null && typeof v === 'object' && !Array.isArray(v)
  if (isObj(expected) && isObj(actual)) {
    const out: string[] = []
    for (const k of [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort()) {
      const p = `${at}.${k}`
      if (!(k in actual)) out.push(`${p}: missing (expected ${canonical(expected[k])})`)
      else if (!(k in expected)) out.push(`${p}: not expected (received ${canonical(actual[k])})`)
      else out.push(...fieldDifferences(expected[k], actual[k], p))
    }
    return out
  }
  return [`${at || '(record)'}: expected ${canonical(expected)}, received ${canonical(actual)}`]
}

/** The diff of two record lists, or undefined when they are equal. Lines: `-` expected only, `+` received only. */
export function diffRecords(expected: unknown[], actual: unknown[], context = 2): string | undefined {
  const ops = editScript(expected, actual)
  if (ops.every((o) => o.op === ' ')) return undefined
  const lines: string[] = [`expected ${expected.length} ${expected.length === 1 ? 'record' : 'records'}, received ${actual.length}  (- expected, + received)`]
  let k = 0
  let shownUpTo = -1
  while (k < ops.length) {
    if (ops[k]!.op === ' ') {
      k++
      continue
    }
    // A run of changes: unchanged context before it, then removed records, then added ones, each
    // added record followed by the fields that differ from the removed record in its place.
    const from = Math.max(k - context, shownUpTo + 1)
    if (from > shownUpTo + 1) lines.push('  …')
    for (let c = from; c < k; c++) lines.push(`  ${canonical(ops[c]!.value)}`)
    const removed: unknown[] = []
    const added: unknown[] = []
    while (k < ops.length && ops[k]!.op !== ' ') (ops[k]!.op === '-' ? removed : added).push(ops[k++]!.value)
    for (const r of removed) lines.push(`- ${canonical(r)}`)
    added.forEach((a, q) => {
      lines.push(`+ ${canonical(a)}`)
      if (q < removed.length) for (const d of fieldDifferences(removed[q], a)) lines.push(`      ${d}`)
    })
    const to = Math.min(ops.length, k + context)
    let c = k
    for (; c < to && ops[c]!.op === ' '; c++) lines.push(`  ${canonical(ops[c]!.value)}`)
    shownUpTo = c - 1
  }
  if (shownUpTo < ops.length - 1) lines.push('  …')
  return lines.join('\n')
}
