import type { NatsConnection } from '@nats-io/nats-core'
import type { ClickHouse, ClickHouseConnectionOptions } from '../../plugin-api.js'
import type { PluginRegistry } from '../../plugins/types.js'
import type { Leases } from '../../lease/types.js'
import type { PipelineSpec } from '../../pipeline/types.js'
import type { StageGroup } from '../../runtime/topology.js'
import { createLogger, type Logger } from '../../log/logger.js'
import { connectNats } from '../../nats/connect.js'
import { compileTopology } from '../../runtime/topology.js'
import { createRuntime, type RuntimeParts } from '../../runtime/runtime.js'
import { RunObserver } from '../../app/observe-run.js'
import { backoffDelay, sleep } from '../../runtime/backoff.js'
import { errorMessage } from '../../errors.js'
import { checkFleetSpec, sourceRunsOnEveryWorker } from '../fleet-checks.js'
import { loadRevision } from '../deploy.js'
import { leaseKey, type LeasedPart } from '../names.js'
import type { DeployedRevision, WorkerPipeline } from '../types.js'
import { superviseUnit, type UnitState } from './supervise.js'

export interface AssignmentDeps {
  fleet: string
  workerId: string
  /** The worker's own connection: used for pipelines whose file has no `nats` block. */
  nc: NatsConnection
  registry: PluginRegistry
  leases: Leases
  env: NodeJS.ProcessEnv
  logger: Logger
  statusIntervalMs: number
  openClickHouse(opts: ClickHouseConnectionOptions): Promise<ClickHouse>
  /** Something the heartbeat reports changed (state, parts). */
  onChange(): void
}

/**
 * One revision of one deployed pipeline on this worker. It runs three kinds of parts, each a
 * runtime of its own: consuming groups on shared durables (on every worker: they share the work),
 * the source (under the pipeline's source lease, unless the plugin runs `per-worker`) and
 * single-owner stateful groups (under the pipeline's stateful lease). A pipeline whose file has a
 * `nats` block runs on a connection of its own with those credentials, resolved on this worker —
 * least privilege per pipeline; the worker's connection only serves the fleet's buckets.
 */
export class Assignment {
  state: WorkerPipeline['state'] = 'starting'
  error: string | undefined
  private readonly parts = new Map<string, UnitState>()
  private readonly abort = new AbortController()
  private running: Promise<void> | undefined

  constructor(
    readonly rev: DeployedRevision,
    private readonly deps: AssignmentDeps,
  ) {}

  get name(): string {
    return this.rev.name
  }

  get revision(): number {
    return this.rev.revision
  }

  report(): WorkerPipeline {
    return { name: this.name, revision: this.revision, state: this.state, runs: this.runs(), ...(this.error ? { error: this.error } : {}) }
  }

  start(): void {
    this.running ??= this.supervise()
  }

  /** Drains every part (in-flight batches finished, sinks flushed, acks sent) and releases its leases. */
  async stop(): Promise<void> {
    if (!this.abort.signal.aborted) {
      this.state = 'draining'
      this.deps.onChange()
      this.abort.abort()
    }
    await this.running
    this.state = 'stopped'
    this.deps.onChange()
  }

  private runs(): string[] {
    const out: string[] = []
    const order = ['source+groups', 'groups', 'source', 'stateful']
    for (const [label, s] of [...this.parts].sort(([a], [b]) => order.indexOf(a) - order.indexOf(b))) {
      if (s === 'running' || s === 'idle') out.push(label)
      else if (s === 'standby') out.push(`${label} (standby)`)
      else if (s === 'failed') out.push(`${label} (failed)`)
    }
    return out
  }

  private setPart(label: string, s: UnitState, err?: unknown): void {
    this.parts.set(label, s)
    if (err !== undefined) this.error = errorMessage(err)
    else if (s === 'running' && [...this.parts.values()].every((v) => v !== 'failed')) this.error = undefined
    this.deps.onChange()
  }

  /** Sets the revision up, retrying with back-off what fails before any part runs (a secret missing here, NATS down). */
  private async supervise(): Promise<void> {
    const signal = this.abort.signal
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        await this.runRevision(signal)
        return
      } catch (err) {
        this.state = 'failed'
        this.error = errorMessage(err)
        this.deps.logger.error({ pipeline: this.name, revision: this.revision, err: this.error }, 'cannot run this revision here; trying again after a pause')
        this.deps.onChange()
        await sleep(backoffDelay(attempt, 2000, 60_000), signal)
      }
    }
  }

  private async runRevision(signal: AbortSignal): Promise<void> {
    const { registry } = this.deps
    const spec = await loadRevision(this.rev, registry, this.deps.env)
    checkFleetSpec(spec, registry)
    const logger = createLogger({ secrets: spec.secrets }).child({ pipeline: spec.name, revision: this.revision })
    const own = spec.nats ? await connectNats(spec.nats, { name: `tributary worker ${this.deps.workerId} (${spec.name})` }) : undefined
    const nc = own ?? this.deps.nc
    const observer = new RunObserver({
      spec,
      logger,
      intervalMs: this.deps.statusIntervalMs,
      fleet: () => ({ fleet: this.deps.fleet, worker: this.deps.workerId, revision: this.revision, runs: this.runs() }),
    })
    try {
      const singleOwner = (s: PipelineSpec['transforms'][number]): boolean => registry.get(s.kind, s.use)?.manifest.stateful === true
      const topology = compileTopology(spec, singleOwner)
      const metrics = observer.metricsFor(topology)
      await observer.running(nc, topology)
      const isSingle = (g: StageGroup): boolean => g.transforms[0] !== undefined && singleOwner(g.transforms[0])
      const everyWorkerSource = sourceRunsOnEveryWorker(spec, registry)
      const units: Promise<void>[] = []
      const unit = (label: string, parts: RuntimeParts, leased?: LeasedPart): void => {
        units.push(
          superviseUnit({
            label,
            signal,
            logger,
            ...(leased ? { lease: { leases: this.deps.leases, key: leaseKey(spec.name, leased) } } : {}),
            start: () => createRuntime(spec, { nc, registry, logger, openClickHouse: this.deps.openClickHouse, metrics: () => metrics }, { parts }),
            onState: (s, err) => this.setPart(label, s, err),
          }),
        )
      }
      if (everyWorkerSource || topology.groups.some((g) => !isSingle(g))) unit(everyWorkerSource ? 'source+groups' : 'groups', { source: everyWorkerSource, groups: (_g, single) => !single })
      if (!everyWorkerSource) unit('source', { source: true, groups: () => false }, 'source')
      if (topology.groups.some(isSingle)) unit('stateful', { source: false, groups: (_g, single) => single }, 'stateful')
      this.state = 'running'
      this.deps.onChange()
      await Promise.all(units)
    } finally {
      await observer.stop('stopped')
      if (own) await own.drain().catch(() => own.close())
      logger.flush?.()
    }
  }
}
