import { setFlagsFromString } from 'node:v8'

/** Old-generation growth between major GCs, in % of the live size (V8 picks up to ~300 % on a busy process). */
const DEFAULT_PERCENT = 100

let applied = false

/**
 * A streaming runtime keeps a small, steady live set (~50 MB: held inputs and sink buffers) and
 * allocates fast; V8 then lets the old generation grow to several times the live set between
 * major GCs, so resident memory reached 3–6× what is live (docs/performance.md). A smaller
 * growth factor keeps RSS near the live set for a few more major GCs. V8 reads this flag when it
 * sets the next heap limit, so it works at run time (unlike --max-old-space-size). Set
 * TRIBUTARY_HEAP_GROWING_PERCENT=0 for V8's own heuristics, or another percentage.
 */
export function limitHeapGrowth(env: NodeJS.ProcessEnv = process.env): void {
  if (applied) return
  applied = true
  const raw = env.TRIBUTARY_HEAP_GROWING_PERCENT
  const pct = raw === undefined || raw === '' ? DEFAULT_PERCENT : Number(raw)
  if (!Number.isInteger(pct) || pct <= 0) return
  setFlagsFromString(`--heap-growing-percent=${pct}`)
}
