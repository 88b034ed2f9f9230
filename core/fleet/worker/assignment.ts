import type { NatsConnection } from '@nats-io/nats-core'
import type { ClickHouse, ClickHouseConnectionOptions } from '../../plugin-api.js'
import type { PluginRegistry } from '../../plugins/types.js'
import type { Leases } from '../../lease/types.js'
import type { PipelineSpec } from '../../pipeline/types.js'
import type { StageGroup } from '../../runtime/topology.js'
import { createLogger, type Logger } from '../../log/logger.js'
import { connectNats } from '../../nats/connect.js'
import { compileTopology, groupInputs } from '../../runtime/topology.js'
import { createRuntime, type RuntimeParts } from '../../runtime/runtime.js'
import { RunObserver } from '../../app/observe-run.js'
import { backoffDelay, sleep } from '../../runtime/backoff.js'
import { errorMessage } from '../../errors.js'
import { checkFleetSpec, sourceRunsOnEveryWorker } from '../fleet-checks.js'
import { loadRevision } from '../deploy.js'
import { leaseKey, partitionLeaseKey, type LeasedPart } from '../names.js'
import type { DeployedRevision, WorkerPipeline } from '../types.js'
import { superviseUnit, type UnitLease, type UnitOptions, type UnitState } from './supervise.js'
import { PartitionShare } from './partition-share.js'
import { whenSourceReadsAgain } from './resume.js'

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
  /** Live workers that run `pipeline` now, this one included (the workers' heartbeats). */
  liveWorkers(pipeline: string): Promise<number>
}

/**
 * One revision of one deployed pipeline on this worker. It runs four kinds of parts, each a
 * runtime of its own: consuming groups on shared durables (on every worker: they share the work),
 * the source (under the pipeline's source lease, unless the plugin runs `per-worker`),
 * single-owner stateful groups (under the pipeline's stateful lease) and, for a stateful stage
 * split into key partitions, each partition under a lease of its own, a fair share of them per
 * worker (partition-share.ts). A pipeline whose file has a
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
    const rank = (label: string): number => (order.includes(label) ? order.indexOf(label) : order.length)
    for (const [label, s] of [...this.parts].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b, 'en', { numeric: true }))) {
      // A key partition (`<stage>.p<i>`) is listed where it runs; every worker stands by for all of them.
      const partition = !order.includes(label)
      if (s === 'running' || s === 'idle') out.push(label)
      else if (s === 'standby' && !partition) out.push(`${label} (standby)`)
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
      const leased = (part: LeasedPart): UnitLease => {
        const key = leaseKey(spec.name, part)
        return { key, acquire: (s) => this.deps.leases.acquire(key, s) }
      }
      const unit = (label: string, parts: RuntimeParts, lease?: UnitLease, resume?: UnitOptions['resume']): void => {
        units.push(
          superviseUnit({
            label,
            signal,
            logger,
            ...(lease ? { lease } : {}),
            ...(resume ? { resume } : {}),
            start: () => createRuntime(spec, { nc, registry, logger, openClickHouse: this.deps.openClickHouse, metrics: () => metrics }, { parts }),
            onState: (s, err) => this.setPart(label, s, err),
          }),
        )
      }
      const resume = whenSourceReadsAgain(nc, spec)
      if (everyWorkerSource || topology.groups.some((g) => !isSingle(g))) unit(everyWorkerSource ? 'source+groups' : 'groups', { source: everyWorkerSource, groups: (_g, single) => !single })
      if (!everyWorkerSource) unit('source', { source: true, groups: () => false }, leased('source'))
      if (topology.groups.some((g) => isSingle(g) && !g.partitioning)) unit('stateful', { source: false, groups: (g, single) => single && !g.partitioning }, leased('stateful'), resume)
      const partitions = topology.groups.flatMap((g) => groupInputs(g).flatMap((i) => (i.partition ? [{ g, index: i.partition.index }] : [])))
      if (partitions.length > 0) {
        const share = new PartitionShare({ leases: this.deps.leases, total: partitions.length, liveWorkers: () => this.deps.liveWorkers(spec.name), logger })
        units.push(share.balance(signal))
        for (const { g, index } of partitions) {
          const key = partitionLeaseKey(spec.name, g.id, index)
          unit(`${g.id}.p${index}`, { source: false, groups: (x, _single, p) => x.id === g.id && p === index }, { key, acquire: (s) => share.acquire(key, s) }, resume)
        }
      }
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
