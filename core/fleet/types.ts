/** What is stored in a fleet's buckets (JSON), and what the fleet commands report. */

export type DesiredState = 'running' | 'stopped'

/** `pipelines.<name>` in the deployments bucket. */
export interface PipelineDeployment {
  version: 1
  name: string
  /** The revision workers run. */
  revision: number
  state: DesiredState
  updatedAt: string
  /** `user@host` of whoever deployed, stopped or started it last. */
  updatedBy: string
}

/**
 * `revisions.<name>.<n>`: the pipeline file as written — secrets stay `${env:…}`/`${file:…}`
 * references, resolved by each worker from its own environment — and the absolute path it was
 * deployed from: relative paths in it (data files, `${file:…}` secrets, TLS files) resolve against
 * that folder on the worker, so workers need the same paths (a shared volume), as Kafka Connect's
 * file connectors do.
 */
export interface DeployedRevision {
  version: 1
  name: string
  revision: number
  file: string
  text: string
  deployedAt: string
  deployedBy: string
  /** Set when this revision re-deploys an earlier one (`deploy --revision N`). */
  rollbackOf?: number
  /** Short description of the pipeline, for `history`: `source → stages → sinks`. */
  summary: string
}

/** What a worker does for one pipeline, in its heartbeat. */
export interface WorkerPipeline {
  name: string
  revision: number
  state: 'starting' | 'running' | 'draining' | 'stopped' | 'failed'
  /**
   * Parts this worker runs now: `groups` (consuming stages on shared durables), `source`,
   * `stateful` (single-owner stages); `source (standby)` / `stateful (standby)` while waiting for the lease.
   */
  runs: string[]
  error?: string
}

/** A worker's heartbeat, `<worker id>` in the workers bucket. */
export interface WorkerDoc {
  version: 1
  id: string
  fleet: string
  host: string
  pid: number
  tributaryVersion: string
  state: 'running' | 'stopping'
  startedAt: string
  updatedAt: string
  intervalMs: number
  pipelines: WorkerPipeline[]
}

/** A worker as `workers list` shows it. */
export interface WorkerSummary extends Omit<WorkerDoc, 'version' | 'state'> {
  /** `lost`: its heartbeat is overdue (killed, host down). */
  state: WorkerDoc['state'] | 'lost'
}

/** `pipelines list`. */
export interface DeploymentSummary {
  name: string
  fleet: string
  revision: number
  state: DesiredState
  /** Workers that run some part of it now. */
  workers: number
  updatedAt: string
  updatedBy: string
}

export interface HistoryEntry {
  revision: number
  deployedAt: string
  deployedBy: string
  file: string
  summary: string
  rollbackOf?: number
  /** The revision workers run now. */
  current: boolean
}
