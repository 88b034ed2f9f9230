/**
 * `validate --plan`: what deploying a pipeline changes on JetStream and ClickHouse, compared with
 * what is there now. Pure: the caller reads the current state and asks the runtime for the
 * consumer names (the runtime owns the naming rule), so this is tested without servers.
 *
 * The point is to show what an edit costs: a renamed stage gets a new consumer, which reads the
 * stream's history again (DeliverPolicy.All), and its old consumer and saved state are dropped.
 */
import type { JsonValue } from '../plugin-api.js'
import { pipelineSubjects, streamName } from '../jetstream/names.js'
import type { PipelineSpec } from './types.js'

export interface CurrentConsumer {
  name: string
  /** Messages not yet delivered to it. */
  numPending: number
  /** Stream sequence up to which everything is acknowledged. */
  ackFloorSeq: number
}

export interface CurrentState {
  streamExists: boolean
  /** Messages kept in the stream now. */
  streamMessages?: number
  consumers: CurrentConsumer[]
  /** Saved source positions and stage state in KV, by stage id. */
  positions: Record<string, JsonValue>
  /** What ClickHouse has, by table name; a table not listed was not inspected. */
  tables: Record<string, { exists: boolean; columns?: Record<string, string> }>
  /** Key partitions stateful stages ran with, by stage id (absent: never ran). */
  partitions?: Record<string, number>
  /**
   * The durables of stateful stages, by name: a stateful durable is positioned from its stage's
   * saved state at start, so that state says where it resumes. `seq`: the last input the saved
   * state covers (absent: nothing saved yet).
   */
  stateful?: Record<string, { stage: string; seq?: number; finished?: boolean }>
}

export interface DesiredState {
  /** Durable consumer names, from the runtime's topology (`consumerNames(spec)`). */
  consumers: string[]
  /** Tables the sinks write, with the columns they would create or expect. */
  tables: { table: string; columns?: Record<string, string> }[]
}

export type PlanAction = 'create' | 'keep' | 'drop' | 'resume' | 'reprocess' | 'check'
export type PlanSubject = 'stream' | 'consumer' | 'table' | 'position' | 'partitions'

export interface PlanItem {
  action: PlanAction
  what: PlanSubject
  name: string
  detail: string
}

export type Plan = PlanItem[]

export function computePlan(spec: PipelineSpec, current: CurrentState, desired: DesiredState): Plan {
  return [...streamItems(spec, current), ...consumerItems(current, desired), ...positionItems(spec, current), ...partitionItems(spec, current), ...tableItems(current, desired)]
}

/** Stages split into key partitions; a count other than the one a stage ran with is refused at start. */
function partitionItems(spec: PipelineSpec, current: CurrentState): PlanItem[] {
  const items: PlanItem[] = []
  for (const t of spec.transforms) {
    const want = t.partitions ?? 1
    const was = current.partitions?.[t.id]
    if (was !== undefined && was !== want) {
      items.push({ action: 'check', what: 'partitions', name: t.id, detail: `ran with ${was} partition${was === 1 ? '' : 's'}, now ${want}: refused (its saved state is split by the old count); keep ${was}, or give the stage a new \`id\` (reprocesses the retained history)` })
    } else if (want > 1) {
      items.push({ action: was === undefined ? 'create' : 'keep', what: 'partitions', name: t.id, detail: `${want} key partitions by ${t.partitionKey?.join(', ') ?? '?'}` })
    }
  }
  return items
}

/** The plan's refusals: stages whose partition count changed (deploy stops on them). */
export function planRefusals(plan: Plan): PlanItem[] {
  return plan.filter((i) => i.what === 'partitions' && i.action === 'check')
}

function streamItems(spec: PipelineSpec, current: CurrentState): PlanItem[] {
  const name = streamName(spec.name)
  const r = spec.retention
  if (!current.streamExists) {
    const limits = `max age ${r.maxAgeMs === 0 ? 'unlimited' : ms(r.maxAgeMs)}, max ${bytes(r.maxBytes)}, duplicate window ${ms(r.duplicateWindowMs)}, ${spec.replicas} replica${spec.replicas === 1 ? '' : 's'}`
    return [{ action: 'create', what: 'stream', name, detail: `subjects ${pipelineSubjects(spec.name)}; ${limits}` }]
  }
  return [{ action: 'keep', what: 'stream', name, detail: current.streamMessages === undefined ? 'exists' : `exists with ${count(current.streamMessages, 'message')}` }]
}

function consumerItems(current: CurrentState, desired: DesiredState): PlanItem[] {
  const items: PlanItem[] = []
  const existing = new Map(current.consumers.map((c) => [c.name, c]))
  const history = current.streamExists ? (current.streamMessages ?? 0) : 0
  for (const name of desired.consumers) {
    const c = existing.get(name)
    const st = current.stateful?.[name]
    if (st) items.push(statefulConsumerItem(name, st, history))
    else if (c) items.push({ action: 'resume', what: 'consumer', name, detail: `continues after sequence ${c.ackFloorSeq}, ${count(c.numPending, 'message')} pending` })
    else if (history > 0) items.push({ action: 'reprocess', what: 'consumer', name, detail: `new consumer: reads the stream's history again (up to ${count(history, 'message')}), its outputs are written again` })
    else items.push({ action: 'create', what: 'consumer', name, detail: 'new consumer' })
  }
  const wanted = new Set(desired.consumers)
  for (const c of current.consumers) {
    if (!wanted.has(c.name)) items.push({ action: 'drop', what: 'consumer', name: c.name, detail: c.numPending > 0 ? `${count(c.numPending, 'pending message')} will not be processed by it` : 'no longer used' })
  }
  return items
}

/** A stateful stage resumes from its saved state, not from its durable's ack floor (the durable is positioned at start). */
function statefulConsumerItem(name: string, st: { stage: string; seq?: number; finished?: boolean }, history: number): PlanItem {
  if (st.seq !== undefined) {
    return { action: 'resume', what: 'consumer', name, detail: `resumes after sequence ${st.seq}, where the saved state of ${st.stage} ends${st.finished ? ' (it had finished its input)' : ''}` }
  }
  if (history > 0) return { action: 'reprocess', what: 'consumer', name, detail: `${st.stage} has no saved state: reads the stream's history from the start (up to ${count(history, 'message')}), its outputs are written again` }
  return { action: 'create', what: 'consumer', name, detail: 'new consumer' }
}

function positionItems(spec: PipelineSpec, current: CurrentState): PlanItem[] {
  const items: PlanItem[] = []
  const ids = new Set([spec.source.id, ...spec.transforms.map((t) => t.id), ...spec.sinks.map((s) => s.id)])
  const orphans = Object.keys(current.positions).filter((id) => !ids.has(id))
  const saved = current.positions[spec.source.id]
  if (saved !== undefined) items.push({ action: 'resume', what: 'position', name: spec.source.id, detail: `source resumes from ${preview(saved)}` })
  else if (orphans.length > 0) {
    // Progress saved under other ids: most likely the source was renamed, and would read its input again.
    items.push({ action: 'reprocess', what: 'position', name: spec.source.id, detail: `no saved position for this id (saved ones: ${orphans.join(', ')}): the source reads its input from the start; keep its old \`id\` to resume instead` })
  } else items.push({ action: 'create', what: 'position', name: spec.source.id, detail: 'source reads its input from the start' })
  for (const id of Object.keys(current.positions)) {
    if (id !== spec.source.id && ids.has(id)) items.push({ action: 'keep', what: 'position', name: id, detail: 'saved stage state is kept' })
  }
  for (const id of orphans) items.push({ action: 'drop', what: 'position', name: id, detail: 'saved state of a stage that is no longer in the pipeline' })
  return items
}

function tableItems(current: CurrentState, desired: DesiredState): PlanItem[] {
  return desired.tables.map(({ table, columns }): PlanItem => {
    const now = current.tables[table]
    if (!now) return { action: 'check', what: 'table', name: table, detail: 'not inspected; checked before the first insert' }
    if (!now.exists) {
      return columns
        ? { action: 'create', what: 'table', name: table, detail: `columns ${Object.entries(columns).map(([c, t]) => `${c} ${t}`).join(', ')}` }
        : { action: 'check', what: 'table', name: table, detail: 'does not exist and the sink has no `columns` to create it from: inserts will fail' }
    }
    if (!columns || !now.columns) return { action: 'keep', what: 'table', name: table, detail: 'exists' }
    const diffs = Object.entries(columns).flatMap(([c, t]) => {
      const have = now.columns![c]
      if (have === undefined) return [`column ${c} is missing`]
      return have === t ? [] : [`column ${c} is ${have}, the sink writes ${t}`]
    })
    return diffs.length === 0 ? { action: 'keep', what: 'table', name: table, detail: 'exists with the expected columns' } : { action: 'check', what: 'table', name: table, detail: `differs: ${diffs.join('; ')}` }
  })
}

const SYMBOL: Record<PlanAction, string> = { create: '+', keep: '=', drop: '-', resume: '>', reprocess: '!', check: '?' }

/** The plan as aligned lines, then a one-line summary of what changes. */
export function formatPlan(plan: Plan): string {
  const w = (f: (i: PlanItem) => string): number => Math.max(0, ...plan.map((i) => f(i).length))
  const [aw, ww, nw] = [w((i) => i.action), w((i) => i.what), w((i) => i.name)]
  const lines = plan.map((i) => `${SYMBOL[i.action]} ${i.action.padEnd(aw)}  ${i.what.padEnd(ww)}  ${i.name.padEnd(nw)}  ${i.detail}`.trimEnd())
  const n = (a: PlanAction): number => plan.filter((i) => i.action === a).length
  const summary = [
    n('create') && `${n('create')} to create`,
    n('drop') && `${n('drop')} to drop`,
    n('reprocess') && `${n('reprocess')} reprocessing history`,
    n('check') && `${n('check')} to check`,
  ].filter(Boolean)
  const last = summary.length > 0 ? `Plan: ${summary.join(', ')}.` : 'Plan: no changes.'
  return lines.length > 0 ? [...lines, '', last].join('\n') : last
}

function count(n: number, one: string): string {
  return `${n} ${one}${n === 1 ? '' : 's'}`
}

function preview(v: JsonValue): string {
  const s = JSON.stringify(v)
  return s.length > 60 ? `${s.slice(0, 57)}...` : s
}

function ms(n: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const) {
    if (n >= size && n % size === 0) return `${n / size}${unit}`
  }
  return `${n}ms`
}

function bytes(n: number): string {
  for (const [unit, size] of [['TB', 1024 ** 4], ['GB', 1024 ** 3], ['MB', 1024 ** 2], ['KB', 1024]] as const) {
    if (n >= size && n % size === 0) return `${n / size}${unit}`
  }
  return `${n} bytes`
}
