import type { PipelineSpec, StageSpec } from '../pipeline/types.js'

export interface StageChange {
  action: 'add' | 'remove' | 'change' | 'keep'
  /** A stage id, or `pipeline` for settings outside the stages. */
  name: string
  detail: string
}

/**
 * What a new revision changes against the running one, stage by stage (stages are matched by id,
 * as consumers and saved state are). Changed config is named by key, never shown: resolved
 * values may hold secrets.
 */
export function diffRevisions(running: PipelineSpec | undefined, next: PipelineSpec): StageChange[] {
  const stages = (s: PipelineSpec): StageSpec[] => [s.source, ...s.transforms, ...s.sinks]
  if (!running) return stages(next).map((s) => ({ action: 'add', name: s.id, detail: `${s.kind} ${s.use}` }))
  const before = new Map(stages(running).map((s) => [s.id, s]))
  const out: StageChange[] = []
  for (const s of stages(next)) {
    const old = before.get(s.id)
    before.delete(s.id)
    if (!old) {
      out.push({ action: 'add', name: s.id, detail: `${s.kind} ${s.use}` })
      continue
    }
    const what: string[] = []
    if (old.kind !== s.kind || old.use !== s.use) what.push(`plugin ${old.kind} ${old.use} → ${s.kind} ${s.use}`)
    const keys = new Set([...Object.keys(old.config), ...Object.keys(s.config)])
    const changed = [...keys].filter((k) => JSON.stringify(old.config[k]) !== JSON.stringify(s.config[k])).sort()
    if (changed.length) what.push(`config ${changed.join(', ')}`)
    if (old.where !== s.where) what.push('where')
    if ((old.boundary ?? false) !== (s.boundary ?? false)) what.push('boundary')
    out.push(what.length ? { action: 'change', name: s.id, detail: `${s.kind} ${s.use}: ${what.join('; ')}` } : { action: 'keep', name: s.id, detail: `${s.kind} ${s.use}` })
  }
  for (const s of before.values()) out.push({ action: 'remove', name: s.id, detail: `${s.kind} ${s.use}` })
  const settings: string[] = []
  if (JSON.stringify(running.retention) !== JSON.stringify(next.retention)) settings.push('retention')
  if (JSON.stringify(running.delivery) !== JSON.stringify(next.delivery)) settings.push('delivery')
  if (running.replicas !== next.replicas) settings.push(`replicas ${running.replicas} → ${next.replicas} (an existing stream keeps its replicas)`)
  if (JSON.stringify(running.nats ?? null) !== JSON.stringify(next.nats ?? null)) settings.push('nats')
  if (settings.length) out.push({ action: 'change', name: 'pipeline', detail: settings.join('; ') })
  return out
}

const SYMBOL: Record<StageChange['action'], string> = { add: '+', remove: '-', change: '~', keep: '=' }

export function formatChanges(changes: StageChange[], against: string): string {
  const w = Math.max(0, ...changes.map((c) => c.name.length))
  const lines = changes.map((c) => `${SYMBOL[c.action]} ${c.action.padEnd(6)}  ${c.name.padEnd(w)}  ${c.detail}`)
  return [`Changes against ${against}:`, ...lines].join('\n')
}

/** `file → filter → map → clickhouse`, for history. */
export function pipelineSummary(spec: PipelineSpec): string {
  const sinks = spec.sinks.map((s) => s.use).join(' + ')
  return [spec.source.use, ...spec.transforms.map((t) => t.use), sinks].join(' → ')
}
