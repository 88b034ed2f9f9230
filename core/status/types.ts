import type { StageTotals } from '../metrics/types.js'
import type { ConsumerProbe, StreamProbe } from '../metrics/probe.js'

export type RuntimeState = 'starting' | 'running' | 'draining' | 'stopped' | 'failed'

/** A stage's figures in a status document: totals since the runtime started, and rates over the last interval. */
export interface StageStatus extends StageTotals {
  inPerS: number
  outPerS: number
}

/**
 * What a runtime publishes about itself every few seconds, in the pipeline's state bucket under
 * `_runtime.<instance>`: read by `pipelines status` and `top`, also after the runtime exited
 * (its last document stays, with state `stopped` or `failed`, or a stale heartbeat after kill -9).
 */
export interface RuntimeStatusDoc {
  version: 1
  pipeline: string
  /** `<host>-<pid>`: several runtimes may share a pipeline's durables. */
  instance: string
  host: string
  pid: number
  tributaryVersion: string
  state: RuntimeState
  startedAt: string
  updatedAt: string
  /** The heartbeat period: a running runtime silent for 3 periods is taken as gone. */
  intervalMs: number
  metricsUrl?: string
  stages: StageStatus[]
  consumers: ConsumerProbe[]
  lastError?: { stage?: string; message: string; at: string }
  /** Set when a fleet worker runs this runtime (`tributary worker`). */
  fleet?: FleetRole
}

/** What a fleet worker runs of a deployed pipeline. */
export interface FleetRole {
  fleet: string
  worker: string
  revision: number
  /** `groups`, `source`, `stateful`, or `source (standby)` etc. while another worker holds the lease. */
  runs: string[]
}

/** A runtime as `pipelines status` reports it. */
export interface RuntimeSummary {
  instance: string
  host: string
  pid: number
  /** `lost`: said it was running but stopped sending heartbeats (killed, host gone). */
  state: RuntimeState | 'lost'
  startedAt: string
  updatedAt: string
  metricsUrl?: string
  fleet?: FleetRole
}

export interface PipelineStatus {
  pipeline: string
  /** `run`: started by `tributary run`; `deployed`: deployed to a fleet of workers (`deployment` says more). */
  mode: 'run' | 'deployed'
  /**
   * `running` while at least one runtime sends heartbeats. Deployed pipelines also: `pending`
   * (deployed to run, no worker runs it), `stopping` (stopped, workers still draining), `failed`
   * (every worker that has it failed to start it).
   */
  state: 'running' | 'stopped' | 'pending' | 'stopping' | 'failed'
  runtimes: RuntimeSummary[]
  /** Summed over the live runtimes, else the figures of the most recent one (rates then 0). */
  stages: StageStatus[]
  /** Live from the server, also when no runtime runs. */
  consumers: ConsumerProbe[]
  stream?: StreamProbe
  lastError?: { stage?: string; message: string; at: string }
  deployment?: DeploymentStatus
}

/** A deployed pipeline's place in its fleet: what should run, and which worker runs what. */
export interface DeploymentStatus {
  fleet: string
  /** The revision the fleet should run. */
  revision: number
  desired: 'running' | 'stopped'
  updatedAt: string
  updatedBy: string
  workers: { worker: string; host: string; alive: boolean; revision: number; state: string; runs: string[]; error?: string }[]
  /** Holders of the pipeline's leases by part: `source`, `stateful`, and each key partition `stateful.<stage>.p<i>`. */
  leases: Record<string, string>
}
