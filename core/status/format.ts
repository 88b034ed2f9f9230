import type { JsonObject } from '../plugin-api.js'
import { formatTable } from '../app/format-table.js'
import type { DeploymentStatus, PipelineStatus } from './types.js'
import type { ConsumerProbe } from '../metrics/probe.js'

/**
 * One row per stage: totals and rates from the runtimes' status documents, and on the first
 * stage of each consuming group, its durable's lag as the server sees it now.
 */
export function stageRows(s: PipelineStatus, withPipeline = false): JsonObject[] {
  const consumers = new Map<string, ConsumerProbe>()
  for (const c of s.consumers) {
    // A stage split into key partitions: its durables' lag adds up on its row.
    const cur = consumers.get(c.stage)
    consumers.set(c.stage, cur ? { ...cur, pending: cur.pending + c.pending, ackPending: cur.ackPending + c.ackPending, oldestUnackedAgeS: Math.max(cur.oldestUnackedAgeS, c.oldestUnackedAgeS) } : c)
  }
  const stages = s.stages.length > 0 ? s.stages : s.consumers.map((c) => ({ id: c.stage, kind: '?', use: '?', in: 0, out: 0, inPerS: 0, outPerS: 0, dead: 0, errors: 0 }))
  const rows = stages.map((st): JsonObject => {
    const c = consumers.get(st.id)
    consumers.delete(st.id)
    return {
      ...(withPipeline ? { pipeline: s.pipeline } : {}),
      stage: st.id,
      kind: st.kind,
      plugin: st.use,
      in: st.in,
      out: st.out,
      'in/s': round(st.inPerS),
      'out/s': round(st.outPerS),
      dlq: st.dead,
      errors: st.errors,
      pending: c ? c.pending : '',
      'ack pending': c ? c.ackPending : '',
      'oldest unacked': c ? age(c.oldestUnackedAgeS) : '',
    }
  })
  // Durables no runtime reported (a replay's own, or stages removed from the file).
  for (const c of consumers.values()) {
    rows.push({ ...(withPipeline ? { pipeline: s.pipeline } : {}), stage: c.stage, kind: 'consumer', plugin: '', in: '', out: '', 'in/s': '', 'out/s': '', dlq: '', errors: '', pending: c.pending, 'ack pending': c.ackPending, 'oldest unacked': age(c.oldestUnackedAgeS) })
  }
  return rows
}

/** `pipelines status` for a terminal: state and runtimes, stream and DLQ, the stage table, the last error. */
export function formatStatus(s: PipelineStatus): string {
  const lines: string[] = []
  const live = s.runtimes.filter((r) => r.state === 'running' || r.state === 'draining' || r.state === 'starting')
  lines.push(`pipeline ${s.pipeline}: ${s.state}${live.length ? ` (${live.map((r) => `${r.instance} since ${r.startedAt}${r.metricsUrl ? `, ${r.metricsUrl}` : ''}`).join('; ')})` : ''}`)
  if (s.deployment) lines.push(...deploymentLines(s.deployment))
  const gone = s.runtimes.filter((r) => !live.includes(r))[0]
  if (!live.length && gone) lines.push(`last runtime: ${gone.instance}, ${gone.state} (last heartbeat ${gone.updatedAt})`)
  if (!s.runtimes.length && !s.deployment) lines.push('no runtime has reported on this pipeline (it last ran with an older Tributary, or never ran)')
  if (s.stream) {
    const st = s.stream
    lines.push(`stream: ${st.messages} messages, ${bytes(st.bytes)} of ${bytes(st.maxBytes)}, retention ${st.maxAgeS > 0 ? age(st.maxAgeS) : 'unlimited'}; dead-letter queue: ${st.dlq}`)
  }
  lines.push('', formatTable(stageRows(s)))
  if (s.lastError) lines.push('', `last error${s.lastError.stage ? ` (stage ${s.lastError.stage})` : ''} at ${s.lastError.at}: ${s.lastError.message}`)
  return lines.join('\n')
}

/** Where a deployed pipeline runs: revision and desired state, then one line per worker. */
function deploymentLines(d: DeploymentStatus): string[] {
  const leases = Object.entries(d.leases).map(([part, owner]) => `${part} lease: ${owner}`)
  const lines = [`deployed in fleet ${d.fleet}: revision ${d.revision}, ${d.desired === 'running' ? 'to run' : 'stopped'} (by ${d.updatedBy} at ${d.updatedAt})${leases.length ? `; ${leases.join(', ')}` : ''}`]
  if (d.workers.length === 0) lines.push(d.desired === 'running' ? 'no worker runs it yet: start one with `tributary worker`' : 'no worker runs it')
  for (const w of d.workers) {
    lines.push(`  worker ${w.worker}${w.alive ? '' : ' (lost)'}: revision ${w.revision} ${w.state}${w.runs.length ? `, runs ${w.runs.join(', ')}` : ''}${w.error ? `; error: ${w.error}` : ''}`)
  }
  return lines
}

/** `top`: every pipeline's stages in one table, under a header with the time. */
export function formatTop(statuses: PipelineStatus[], now: Date, intervalMs: number): string {
  const head = `tributary top  ${now.toISOString().slice(11, 19)}  refresh ${intervalMs / 1000}s  (ctrl-c to quit)`
  if (statuses.length === 0) return `${head}\n\nno pipelines on this NATS server`
  const state = statuses.map((s) => `${s.pipeline}: ${s.state}${s.stream ? `, dlq ${s.stream.dlq}` : ''}`).join('  ·  ')
  return `${head}\n${state}\n\n${formatTable(statuses.flatMap((s) => stageRows(s, true)))}`
}

function round(n: number): number {
  return Math.round(n * 10) / 10
}

function age(seconds: number): string {
  if (seconds <= 0) return '-'
  if (seconds < 120) return `${seconds.toFixed(1)}s`
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`
  if (seconds < 172_800) return `${Math.round(seconds / 3600)}h`
  return `${Math.round(seconds / 86_400)}d`
}

function bytes(n: number): string {
  if (n < 0) return 'unbounded'
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let i = 0
  let v = n
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`
}
