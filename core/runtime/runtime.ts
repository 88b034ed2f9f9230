import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/nats-core'
import type { ClickHouse, ClickHouseConnectionOptions, HttpRoutes, SinkDefinition, SinkWriter, SourceDefinition, TransformDefinition, TransformProcessor } from '../plugin-api.js'
import type { IsolationSpec, PipelineSpec, StageSpec } from '../pipeline/types.js'
import type { PluginRegistry } from '../plugins/types.js'
import type { Logger } from '../log/logger.js'
import { TributaryError } from '../errors.js'
import { ensureStream } from '../jetstream/stream.js'
import { createBatchFetcher, ensureDurable, getConsumer } from '../jetstream/consumer.js'
import { redeliveredThrough } from '../jetstream/durable-handover.js'
import { positionDurableWhenReachable } from './stateful-consumer.js'
import { createPublisher } from '../jetstream/publisher.js'
import { openStateBucket } from '../jetstream/kv-state.js'
import { streamName } from '../jetstream/names.js'
import { compileTopology, groupInputs, type GroupInput, type StageGroup, type Topology } from './topology.js'
import { runSource, type SourceStats } from './source-runner.js'
import { GroupRunner, type GroupStats } from './group-runner.js'
import { StatefulGroupRunner } from './stateful-group.js'
import type { StageRunner } from './stage-runner.js'
import { pluginContext, type ContextDeps } from './context.js'
import { callHook } from './plugin-driver.js'
import { readEpoch } from './epoch.js'
import { sleep } from './backoff.js'
import { startRetentionKeeper } from './retention-keeper.js'
import type { RuntimeMetrics } from '../metrics/types.js'
import { isolate } from '../isolation/isolate.js'
import { isStageStopped } from '../isolation/stage-stopped.js'
import { subjectRoute } from '../partitions/route.js'
import { ensurePartitioning } from '../partitions/count.js'
import { waitUntilInputEnds } from './completion.js'

/** A fetch that brings nothing ends after this long; the wedge detector counts quiet in these. */
const FETCH_EXPIRES_MS = 1000

export interface RuntimeDeps {
  nc: NatsConnection
  registry: PluginRegistry
  logger: Logger
  openClickHouse(opts: ClickHouseConnectionOptions): Promise<ClickHouse>
  /** Builds the per-stage metrics once the topology is known (absent: nothing is measured). */
  metrics?: (topology: Topology) => RuntimeMetrics
  /** Routes on the runtime's HTTP port, lent to plugins as `ctx.http` (absent: the runtime serves none). */
  http?: HttpRoutes
}

export interface RunSummary {
  pipeline: string
  source: SourceStats
  groups: { id: string; stats: GroupStats }[]
  /** True when a finite source drained and every group consumed and acked everything. */
  completed: boolean
  /** Stages stopped because their isolated plugin kept crashing (the run went on without them). */
  stopped?: { stage: string; reason: string }[]
  /**
   * A runtime without the source (a fleet part) completed its stateful groups once the source's
   * finished marker appeared: the marker's id (core/runtime/finished-marker.ts).
   */
  completedUnder?: string
}

export interface Runtime {
  readonly topology: Topology
  /** Resolves when the run ends: finite input drained, or drained after stop(). */
  readonly done: Promise<RunSummary>
  /** Drain: stop reading, finish in-flight batches, flush sinks, ack, close. */
  stop(): void
}

export interface RuntimeOptions {
  fetchBatch?: number
  ackWaitMs?: number
  maxDeliver?: number
  /** Which parts this process runs (default: all of them). */
  parts?: RuntimeParts
  /**
   * This process is the only reader of the pipeline's stateless groups (a `run` holding the
   * pipeline's run lease): their durables take ack policy all, with deliveries checked to come in
   * order (a break repositions the durable). Never for durables other processes share (a fleet).
   */
  exclusive?: boolean
}

/**
 * A fleet worker splits a pipeline: groups on shared durables run on every worker, while the
 * source and single-owner groups (a stateful head: ack policy all, positioned durable) run in
 * another runtime of the same pipeline under a lease.
 */
export interface RuntimeParts {
  source: boolean
  /** Asked once per group, and for a group split into key partitions once per partition (`partition` set). */
  groups(group: StageGroup, singleOwner: boolean, partition?: number): boolean
}

async function loadDef<T>(registry: PluginRegistry, stage: StageSpec, isolation?: IsolationSpec): Promise<T> {
  const entry = registry.get(stage.kind, stage.use)
  if (!entry) throw new TributaryError('E_PLUGIN', `no ${stage.kind} plugin named "${stage.use}" (stage ${stage.id})`, { hint: 'run `tributary plugins list` to see the installed plugins' })
  // Built-ins are trusted and run here; a community plugin runs sandboxed in its own process (core/isolation).
  return (entry.builtin ? await entry.load() : isolate(entry, isolation)) as T
}

export async function createRuntime(spec: PipelineSpec, deps: RuntimeDeps, opts: RuntimeOptions = {}): Promise<Runtime> {
  const fetchBatch = opts.fetchBatch ?? 1000
  const ackWaitMs = opts.ackWaitMs ?? spec.delivery.ackWaitMs
  const maxDeliver = opts.maxDeliver ?? spec.delivery.maxDeliver
  const js = jetstream(deps.nc)
  const jsm: JetStreamManager = await jetstreamManager(deps.nc)
  const stateful = (s: StageSpec): boolean => deps.registry.get(s.kind, s.use)?.manifest.stateful === true
  const topology = compileTopology(spec, stateful)
  const metrics = deps.metrics?.(topology)
  const stream = streamName(spec.name)
  await ensureStream(jsm, spec)
  const kv = await openStateBucket(js, spec.name, spec.replicas)
  const epoch = await readEpoch(kv)
  const abort = new AbortController()
  const ctxDeps: ContextDeps = { spec, kv, logger: deps.logger, signal: abort.signal, openClickHouse: deps.openClickHouse, nc: deps.nc, http: deps.http, metrics }
  const publisher = createPublisher(deps.nc)

  // A changed partition count is refused before anything is published (core/partitions/count.ts).
  for (const g of topology.groups) {
    const head = g.transforms[0]
    if (head && stateful(head)) await ensurePartitioning(kv, head.id, { count: g.partitioning?.count ?? 1, key: head.partitionKey ?? [], subject: g.inputSubject })
  }

  // Open every plugin before any data moves: a bad config or unreachable sink fails fast.
  const runners: StageRunner[] = []
  const closers: (() => Promise<void>)[] = []
  /** A group's plugins, opened once per runner (each key partition has its own, with its own state). */
  const openGroup = async (g: StageGroup): Promise<{ transforms: { spec: StageSpec; proc: TransformProcessor }[]; sinks: { spec: StageSpec; writer: SinkWriter }[] }> => {
    const transforms = []
    for (const t of g.transforms) {
      const def = await loadDef<TransformDefinition<unknown>>(deps.registry, t, spec.isolation)
      const proc = await callHook(t, 'open', () => def.open(pluginContext(ctxDeps, t) as never))
      closers.push(() => callHook(t, 'close', () => proc.close?.()))
      transforms.push({ spec: t, proc })
    }
    const sinks = []
    for (const s of g.sinks) {
      const def = await loadDef<SinkDefinition<unknown>>(deps.registry, s, spec.isolation)
      const writer = await callHook(s, 'open', () => def.open(pluginContext(ctxDeps, s) as never))
      closers.push(() => callHook(s, 'close', () => writer.close?.()))
      sinks.push({ spec: s, writer })
    }
    return { transforms, sinks }
  }
  try {
    for (const g of topology.groups) {
      const single = g.transforms[0] !== undefined && stateful(g.transforms[0])
      const route = g.outputPartitioning && g.outputSubject ? subjectRoute(g.outputSubject, g.outputPartitioning) : undefined
      if (single) {
        // Positions its own durable after its saved state (docs/state.md); one runner per key partition.
        const inputs: GroupInput[] = groupInputs(g).filter((i) => !opts.parts || opts.parts.groups(g, true, i.partition?.index))
        for (const input of inputs) {
          const { transforms, sinks } = await openGroup(g)
          runners.push(new StatefulGroupRunner(g, transforms, sinks, { pipeline: spec.name, epoch, stream, js, jsm, kv, publisher, logger: deps.logger, signal: abort.signal, fetchBatch, ackWaitMs, maxPayload: deps.nc.info?.max_payload ?? 1024 * 1024, metrics, input, route }))
        }
        continue
      }
      if (opts.parts && !opts.parts.groups(g, false)) continue
      const { transforms, sinks } = await openGroup(g)
      const maxRows = Math.max(0, ...sinks.map((s) => s.writer.batching?.rows ?? 1000))
      const exclusive = opts.exclusive === true && !opts.parts
      const maxAckPending = GroupRunner.maxAckPendingFor(maxRows, fetchBatch)
      const durable = await ensureDurable(jsm, {
        ackAll: exclusive,
        stream,
        name: g.consumer,
        filterSubject: g.inputSubject,
        maxAckPending,
        ackWaitMs,
        // Tributary counts deliveries itself and dead-letters at maxDeliver; the server never gives up.
        maxDeliver: -1,
      })
      const openFetcher = () =>
        createBatchFetcher(js, stream, g.consumer, {
          batch: fetchBatch,
          expiresMs: FETCH_EXPIRES_MS,
          onError: (err, attempt) => deps.logger.warn({ consumer: g.consumer, attempt: attempt + 1, err: (err as Error).message }, 'fetch failed; retrying'),
        })
      // A fetch loop found wedged is replaced; the durable stays (core/runtime/wedge-detector.ts).
      const refetch = { open: openFetcher, info: () => getConsumer(jsm, stream, g.consumer), periodMs: FETCH_EXPIRES_MS }
      const through = redeliveredThrough(durable)
      // Alone on the durable: one ack per write settles the inputs before it, kept safe by the in-order check.
      const inOrder = exclusive
        ? {
            delivered: durable.delivered.consumer_seq,
            afterSeq: durable.delivered.stream_seq,
            reposition: async (afterSeq: number) => {
              const d = { stream, name: g.consumer, filterSubject: g.inputSubject, afterSeq, maxAckPending, ackWaitMs, processedThrough: through }
              await positionDurableWhenReachable(jsm, d, { logger: deps.logger, signal: abort.signal })
              return openFetcher()
            },
          }
        : undefined
      runners.push(new GroupRunner(g, transforms, sinks, { pipeline: spec.name, epoch, publisher, fetcher: openFetcher(), refetch, logger: deps.logger, signal: abort.signal, maxDeliver, ackWaitMs, metrics, route, ackAll: exclusive, inOrder, redeliveredThrough: through }))
    }
  } catch (err) {
    for (const c of closers.reverse()) await c().catch(() => undefined)
    await publisher.close()
    throw err
  }
  const runsSource = opts.parts?.source ?? true
  const sourceDef = runsSource ? await loadDef<SourceDefinition<unknown>>(deps.registry, spec.source, spec.isolation) : undefined
  const sourceStats: SourceStats = { published: 0, duplicates: 0, dead: 0, finished: false }

  const keeper = startRetentionKeeper({ jsm, stream, pipeline: spec.name, maxBytes: spec.retention.maxBytes, logger: deps.logger })
  const stopGroups = (): void => runners.forEach((r) => r.requestStop())
  const stopped: { stage: string; reason: string }[] = []
  /** A stage whose isolated plugin kept crashing stops alone (its inputs wait in the stream); anything else stops the run. */
  const stageStopped = (err: unknown): boolean => {
    if (!isStageStopped(err)) return false
    metrics?.stage(err.stage).error(err)
    deps.logger.error({ stage: err.stage, err: err.message }, 'stage stopped; the rest of the pipeline runs on')
    stopped.push({ stage: err.stage, reason: err.message })
    return true
  }
  const groupRuns = runners.map((r) =>
    r.run().catch((err: unknown) => {
      if (stageStopped(err)) return
      abort.abort()
      stopGroups()
      throw err
    }),
  )
  const sourceRun = !sourceDef ? Promise.resolve() : runSource({ ...ctxDeps, epoch, subject: topology.sourceSubject, publisher, maxPayload: deps.nc.info?.max_payload ?? 1024 * 1024, metrics, route: topology.sourcePartitioning ? subjectRoute(topology.sourceSubject, topology.sourcePartitioning) : undefined }, spec.source, sourceDef, sourceStats).catch((err: unknown) => {
    if (stageStopped(err)) return
    abort.abort()
    stopGroups()
    throw err
  })

  let completedUnder: string | undefined
  /**
   * Without the source (a fleet part), the stateful groups here complete when the source, in
   * another process, marked its input finished and everything before them is consumed
   * (core/runtime/completion.ts); other groups run until stopped.
   */
  const completeAcrossProcesses = async (): Promise<boolean> => {
    if (runners.length === 0 || runners.some((r) => !r.complete)) {
      await sleep(2 ** 31 - 1, abort.signal)
      return false
    }
    for (const [i, r] of runners.entries()) {
      const marker = await waitUntilInputEnds({ jsm, kv, nc: deps.nc, stream, topology, sourceId: spec.source.id, isStateful: stateful, signal: abort.signal }, r)
      if (marker === undefined) return false
      completedUnder ??= marker
      deps.logger.info({ stage: r.group.id, consumer: r.consumer }, 'input finished: emitting what is still open')
      r.complete!()
      await groupRuns[i]!.catch(() => undefined)
    }
    return true
  }

  /** Once a finite source is done, each group is complete when its upstream is and its consumer is empty. */
  const watchCompletion = async (): Promise<boolean> => {
    if (!runsSource) return completeAcrossProcesses()
    await sourceRun.catch(() => undefined)
    if (!sourceStats.finished) return false
    for (const [i, r] of runners.entries()) {
      for (;;) {
        if (abort.signal.aborted) return false
        if (r.idle) {
          // A server restart may interrupt the check: it is simply asked again.
          const info = await deps.nc.flush().then(() => getConsumer(jsm, stream, r.consumer)).catch(() => undefined)
          if (info && info.num_pending === 0 && info.num_ack_pending === 0 && r.idle) break
        }
        await sleep(100, abort.signal)
      }
      if (r.complete) {
        // A stateful group emits its open windows now; the groups after it must see them first.
        r.complete()
        await groupRuns[i]!.catch(() => undefined)
      } else r.requestStop({ now: true }) // nothing pending: no need to wait out the open fetch
    }
    return true
  }

  let closed: Promise<void> | undefined
  const closeAll = (): Promise<void> =>
    (closed ??= (async () => {
      keeper.stop()
      for (const c of closers.reverse()) await c().catch((err: unknown) => deps.logger.warn({ err: (err as Error).message }, 'plugin close failed'))
      await deps.nc.flush().catch(() => undefined)
      await publisher.close()
    })())

  const done = (async (): Promise<RunSummary> => {
    try {
      // Wait for every part to stop before closing plugins, then report the first failure.
      const settled = await Promise.allSettled([watchCompletion(), sourceRun, ...groupRuns])
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected')
      if (failed) throw failed.reason
      const completed = (settled[0] as PromiseFulfilledResult<boolean>).value
      return { pipeline: spec.name, source: sourceStats, groups: runners.map((r) => ({ id: r.group.id, stats: r.stats })), completed, ...(stopped.length ? { stopped } : {}), ...(completedUnder ? { completedUnder } : {}) }
    } finally {
      await closeAll()
    }
  })()

  return {
    topology,
    done,
    stop() {
      if (abort.signal.aborted) return
      deps.logger.info({ pipeline: spec.name }, 'draining: finishing in-flight batches, flushing sinks, acking')
      abort.abort()
      publisher.stopWaiting()
      stopGroups()
    },
  }
}
