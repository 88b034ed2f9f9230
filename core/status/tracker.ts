import type { StageTotals } from '../metrics/types.js'
import type { ConsumerProbe } from '../metrics/probe.js'
import type { RuntimeState, RuntimeStatusDoc, StageStatus } from './types.js'

export type StatusIdentity = Pick<RuntimeStatusDoc, 'pipeline' | 'instance' | 'host' | 'pid' | 'tributaryVersion' | 'startedAt' | 'intervalMs' | 'metricsUrl'>

/** Builds a runtime's successive status documents; rates are the totals' change since the previous one. */
export class StatusTracker {
  private prev: { at: number; totals: Map<string, StageTotals> } | undefined
  private fatal: RuntimeStatusDoc['lastError']

  constructor(private readonly identity: StatusIdentity) {}

  /** The error that ended the run: reported as the last error from now on. */
  failed(message: string, stage?: string): void {
    this.fatal = { message, at: new Date().toISOString(), ...(stage ? { stage } : {}) }
  }

  doc(state: RuntimeState, totals: StageTotals[], consumers: ConsumerProbe[], now = Date.now()): RuntimeStatusDoc {
    const dt = this.prev ? (now - this.prev.at) / 1000 : 0
    const rate = (cur: number, before: number | undefined): number => (dt > 0 && before !== undefined ? Math.max(0, Math.round(((cur - before) / dt) * 10) / 10) : 0)
    const stages: StageStatus[] = totals.map((t) => {
      const p = this.prev?.totals.get(t.id)
      return { ...t, inPerS: rate(t.in, p?.in), outPerS: rate(t.out, p?.out) }
    })
    this.prev = { at: now, totals: new Map(totals.map((t) => [t.id, t])) }
    const lastError = this.fatal ?? latestStageError(totals)
    return { version: 1, ...this.identity, state, updatedAt: new Date(now).toISOString(), stages, consumers, ...(lastError ? { lastError } : {}) }
  }
}

function latestStageError(totals: StageTotals[]): RuntimeStatusDoc['lastError'] {
  let last: RuntimeStatusDoc['lastError']
  for (const t of totals) {
    if (t.lastError && (!last || t.lastError.at > last.at)) last = { stage: t.id, ...t.lastError }
  }
  return last
}
