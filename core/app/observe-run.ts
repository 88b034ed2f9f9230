import { hostname } from 'node:os'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/nats-core'
import type { KV } from '@nats-io/kv'
import { Registry, collectDefaultMetrics } from 'prom-client'
import type { PipelineSpec } from '../pipeline/types.js'
import type { Topology } from '../runtime/topology.js'
import type { Logger } from '../log/logger.js'
import { errorMessage } from '../errors.js'
import { createRuntimeMetrics, type PrometheusRuntimeMetrics } from '../metrics/prometheus.js'
import { startMetricsServer, type MetricsServer } from '../metrics/server.js'
import { createRouteTable } from '../http/routes.js'
import type { HttpRoutes } from '../plugin-api.js'
import { startMonitor, type Monitor } from '../metrics/monitor.js'
import { describeStages, probeTargets } from '../metrics/stages.js'
import type { ConsumerProbe } from '../metrics/probe.js'
import { openStateBucket } from '../jetstream/kv-state.js'
import { instanceId, pruneStatusDocs, writeStatus } from '../status/heartbeat.js'
import { StatusTracker } from '../status/tracker.js'
import type { FleetRole, RuntimeState } from '../status/types.js'
import { tributaryInstall } from './tributary-install.js'

/** Status documents of runtimes silent for a day are removed when a runtime of the pipeline starts. */
const FORGET_AFTER_MS = 24 * 3600_000
export const DEFAULT_STATUS_INTERVAL_MS = 2000

export interface ObserveOptions {
  spec: PipelineSpec
  logger: Logger
  /** Serve /metrics, /healthz, /readyz here; absent: no HTTP server. */
  http?: { host: string; port: number }
  /** Heartbeat and consumer polling period. */
  intervalMs?: number
  /** A fleet worker says what it runs of the pipeline, read at each heartbeat. */
  fleet?: () => FleetRole
}

/**
 * What a `run` shows of itself: Prometheus metrics on the HTTP port, and a status document in the
 * pipeline's state bucket every few seconds (for `pipelines status` and `top`), with the polled
 * consumer lag. Nothing here is on the data path: runners report per batch to the meters.
 */
export class RunObserver {
  readonly registry = new Registry()
  private state: RuntimeState = 'starting'
  private metrics: PrometheusRuntimeMetrics | undefined
  private server: MetricsServer | undefined
  private readonly routeTable = createRouteTable(() => this.server?.url)
  /** Routes plugins add to the HTTP port (`ctx.http`); refused while the runtime serves no port. */
  readonly http: HttpRoutes = this.routeTable.routes
  private monitor: Monitor | undefined
  private kv: KV | undefined
  private tracker: StatusTracker | undefined
  private stopped: Promise<void> | undefined
  private readonly instance = instanceId(hostname(), process.pid)
  private readonly startedAt = new Date().toISOString()
  private readonly version = tributaryInstall().version

  constructor(private readonly opts: ObserveOptions) {}

  /** Starts the HTTP port (before NATS: /healthz answers while the pipeline starts). */
  async listen(): Promise<string | undefined> {
    if (!this.opts.http) return undefined
    collectDefaultMetrics({ register: this.registry })
    this.server = await startMetricsServer({ ...this.opts.http, registry: this.registry, ready: () => this.state === 'running', routes: this.routeTable })
    this.opts.logger.info({ metrics: `${this.server.url}/metrics`, healthz: `${this.server.url}/healthz`, readyz: `${this.server.url}/readyz` }, `serving metrics on ${this.server.url}/metrics`)
    return this.server.url
  }

  /** For RuntimeDeps.metrics: the meters, built once the runtime knows its topology. */
  readonly metricsFor = (topology: Topology): PrometheusRuntimeMetrics => {
    this.metrics = createRuntimeMetrics(this.registry, this.opts.spec.name, describeStages(this.opts.spec, topology), { instance: this.instance, version: this.version })
    return this.metrics
  }

  /** The runtime is up: report ready, start polling consumers and sending heartbeats. */
  async running(nc: NatsConnection, topology: Topology): Promise<void> {
    this.setState('running')
    const spec = this.opts.spec
    const intervalMs = this.opts.intervalMs ?? DEFAULT_STATUS_INTERVAL_MS
    this.kv = await openStateBucket(jetstream(nc), spec.name, spec.replicas)
    const jsm = await jetstreamManager(nc)
    await pruneStatusDocs(this.kv, FORGET_AFTER_MS, Date.now(), { jsm, pipeline: spec.name }).catch(() => undefined)
    this.tracker = new StatusTracker({
      pipeline: spec.name,
      instance: this.instance,
      host: hostname(),
      pid: process.pid,
      tributaryVersion: this.version,
      startedAt: this.startedAt,
      intervalMs,
      ...(this.server ? { metricsUrl: `${this.server.url}/metrics` } : {}),
    })
    this.monitor = startMonitor({
      pipeline: spec.name,
      jsm,
      targets: probeTargets(topology),
      gauges: this.metrics?.gauges,
      logger: this.opts.logger,
      intervalMs,
      onProbe: (probe) => this.heartbeat(probe?.consumers),
    })
  }

  draining(): void {
    if (this.state === 'running') this.setState('draining')
  }

  /** Last heartbeat with the final state and figures; closes the HTTP port. Only the first call counts. */
  stop(state: 'stopped' | 'failed', err?: unknown): Promise<void> {
    this.stopped ??= (async () => {
      this.setState(state)
      if (err !== undefined) this.tracker?.failed(errorMessage(err))
      if (this.monitor) await this.monitor.stop()
      await this.server?.close()
    })()
    return this.stopped
  }

  private setState(state: RuntimeState): void {
    this.state = state
    this.metrics?.gauges.ready.set({ pipeline: this.opts.spec.name }, state === 'running' ? 1 : 0)
  }

  private lastConsumers: ConsumerProbe[] = []

  private async heartbeat(consumers: ConsumerProbe[] | undefined): Promise<void> {
    if (!this.kv || !this.tracker || !this.metrics) return
    // A failed poll keeps the last known lag rather than reporting none.
    if (consumers) this.lastConsumers = consumers
    const doc = this.tracker.doc(this.state, this.metrics.totals(), this.lastConsumers)
    await writeStatus(this.kv, this.opts.fleet ? { ...doc, fleet: this.opts.fleet() } : doc)
  }
}
