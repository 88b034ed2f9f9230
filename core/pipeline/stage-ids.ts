/**
 * Stable stage ids (DESIGN §3). Consumers, KV keys and message ids are keyed by them, so the
 * rule must not change: an explicit `id` wins; otherwise the plugin name, suffixed `-2`, `-3`…
 * when it repeats, in file order across source, transforms and sinks. Ids are unique in the
 * pipeline; a derived id steps over ids given explicitly.
 */
import { formatPath, type JsonPath, type PathIssue } from '../config/json-path.js'

export interface StageRef {
  /** The `id` written in the file, if any. */
  id?: string
  /** Plugin name (`use`). */
  use: string
  /** Path of the stage in the file, e.g. `['transforms', 1]`. */
  at: JsonPath
}

/**
 * Ids that would collide with subjects the runtime uses itself: `trib.<name>.dlq` is the
 * dead-letter subject, so a stage may not publish its output there.
 */
export const RESERVED_STAGE_IDS: ReadonlySet<string> = new Set(['dlq'])

/** One id per stage, in order; issues for explicit ids that repeat or are reserved. */
export function assignStageIds(stages: readonly StageRef[]): { ids: string[]; issues: PathIssue[] } {
  const issues: PathIssue[] = []
  const taken = new Map<string, JsonPath>()
  for (const s of stages) {
    if (s.id === undefined) continue
    const first = taken.get(s.id)
    if (first) issues.push({ at: [...s.at, 'id'], message: `stage id "${s.id}" is already used by the stage at ${formatPath(first)}; give each stage a different id` })
    else if (RESERVED_STAGE_IDS.has(s.id)) issues.push({ at: [...s.at, 'id'], message: `stage id "${s.id}" is reserved (trib.<pipeline>.${s.id} is the dead-letter subject); choose another id` })
    else taken.set(s.id, s.at)
  }
  const ids = stages.map((s) => {
    if (s.id !== undefined) return s.id
    const base = baseId(s.use)
    let id = base
    for (let n = 2; taken.has(id) || RESERVED_STAGE_IDS.has(id); n++) id = `${base}-${n}`
    taken.set(id, s.at)
    return id
  })
  return { ids, issues }
}

/**
 * A plugin name as a stage id: the npm scope dropped (`@acme/geo-ip` → `geo-ip`) and anything a
 * NATS subject token or KV key cannot hold replaced, so the id is valid for any `use`.
 */
export function baseId(use: string): string {
  const bare = use.replace(/^@[^/]*\//, '').toLowerCase().replace(/[^a-z0-9_-]+/g, '-')
  return /^[a-z]/.test(bare) ? bare : `stage-${bare}`.replace(/-+$/, '') || 'stage'
}
