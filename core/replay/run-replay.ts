import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import type { ClickHouse } from '../plugin-api.js'
import { TributaryError } from '../errors.js'
import { loadPipeline } from '../pipeline/load.js'
import { Session, openRegistry } from '../app/session.js'
import { describeNats } from '../app/with-nats.js'
import { requirePipelineStream } from '../dlq/pipeline-stream.js'
import { stageSubject, streamName } from '../jetstream/names.js'
import { createBatchFetcher, getConsumer } from '../jetstream/consumer.js'
import { createPublisher } from '../jetstream/publisher.js'
import { openStateBucket } from '../jetstream/kv-state.js'
import { bumpEpoch } from '../runtime/epoch.js'
import { GroupRunner } from '../runtime/group-runner.js'
import { compileTopology, type StageGroup } from '../runtime/topology.js'
import { nextSeqOnSubject, resolveRange } from './range.js'
import { redirectSinks, createIntoTable, type IntoTable } from './into-table.js'
import { openStages } from './open-stages.js'
import { createReplayDurable, deleteReplayDurable, replayDurableName } from './temp-durable.js'
import { boundedFetcher } from './bounded-fetcher.js'
import { swapTables } from './swap.js'
import type { ReplayOptions, ReplayResult } from './types.js'
import { limitHeapGrowth } from '../runtime/heap-growth.js'

const FETCH_BATCH = 1000

/**
 * `tributary replay FILE`: reprocesses retained history from the source subject through the
 * transforms into the sinks under a new epoch, with a temporary durable of its own (the
 * pipeline's consumers are not moved), up to the source's last message at start, then exits.
 * All transforms and sinks run fused in this process: nothing is published between stages, so
 * the live pipeline's downstream consumers see nothing of the replay.
 */
export async function replayPipelineFile(file: string, opts: ReplayOptions): Promise<ReplayResult> {
  limitHeapGrowth()
  if (opts.swap && !opts.intoTable) throw new TributaryError('E_USAGE', '--swap needs --into-table', { hint: 'replay --into-table NEW --swap builds NEW and then exchanges it with the original table' })
  const registry = await openRegistry(opts.home)
  const loaded = await loadPipeline(file, registry, { env: opts.env })
  const session = new Session({ home: opts.home, nats: opts.nats, env: opts.env, secrets: loaded.secrets })
  const log = session.logger
  const abort = new AbortController()
  let stopRun: (() => void) | undefined
  const onSignal = (sig: NodeJS.Signals): void => {
    if (abort.signal.aborted) {
      log.warn({ signal: sig }, 'second signal: exiting without draining')
      process.exit(130)
    }
    log.info({ signal: sig }, 'replay interrupted: draining; the tables are not swapped')
    abort.abort()
    stopRun?.()
  }
  if (opts.handleSignals) {
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  }
  let ch: ClickHouse | undefined
  try {
    const { nc, origin } = await session.nats(loaded.nats)
    const jsm = await jetstreamManager(nc)
    const js = jetstream(nc)
    const stream = streamName(loaded.name)
    await requirePipelineStream(jsm, loaded.name, describeNats(origin))
    // A first stage split into key partitions reads the source's records on `<subject>.p<i>`.
    const partitioned = compileTopology(loaded, (st) => registry.get(st.kind, st.use)?.manifest.stateful === true).sourcePartitioning !== undefined
    const subject = partitioned ? `${stageSubject(loaded.name, loaded.source.id)}.*` : stageSubject(loaded.name, loaded.source.id)
    const range = await resolveRange(nc, jsm, stream, subject, { fromSeq: opts.fromSeq, since: opts.since })

    let spec = loaded
    let target: IntoTable | undefined
    let skippedSinks: string[] = []
    if (opts.intoTable) ({ spec, target, skipped: skippedSinks } = redirectSinks(loaded, opts.intoTable))
    const result: ReplayResult = { pipeline: spec.name, epoch: 0, fromSeq: 0, toSeq: 0, records: 0, skipped: 0, dead: 0, completed: true, skippedSinks }
    if (!range) {
      log.warn({ pipeline: spec.name, subject }, 'nothing to replay: no retained messages on the source subject in that range')
      return result
    }
    if (skippedSinks.length > 0) log.info({ skipped: skippedSinks }, '--into-table: only the clickhouse sinks run in this replay')
    if (target) {
      ch = await session.clickhouse(target.connection)
      await createIntoTable(ch, target)
      result.table = { original: target.original, into: target.into }
    }

    const kv = await openStateBucket(js, spec.name, spec.replicas)
    const epoch = await bumpEpoch(kv)
    Object.assign(result, { epoch, fromSeq: range.startSeq, toSeq: range.endSeq })
    const stages = await openStages(registry, { spec, kv, logger: log, signal: abort.signal, openClickHouse: (o) => session.clickhouse(o), nc }, spec, `replay-${epoch}`)
    const publisher = createPublisher(nc)
    const durable = replayDurableName(spec.name, epoch)
    const maxRows = Math.max(0, ...stages.sinks.map((s) => s.writer.batching?.rows ?? 1000))
    try {
      const durableSpec = { name: durable, subject, startSeq: range.startSeq, maxAckPending: GroupRunner.maxAckPendingFor(maxRows, FETCH_BATCH), ackWaitMs: spec.delivery.ackWaitMs }
      const ci = await createReplayDurable(jsm, stream, durableSpec)
      const openFetcher = () => createBatchFetcher(js, stream, durable, { batch: FETCH_BATCH, expiresMs: 1000 })
      log.info({ pipeline: spec.name, epoch, from: range.startSeq, to: range.endSeq, records: ci.num_pending, consumer: durable, into: target?.into }, 'replaying')
      const group: StageGroup = { id: spec.transforms[0]?.id ?? spec.sinks[0]!.id, consumer: durable, inputSubject: subject, transforms: spec.transforms, sinks: spec.sinks }
      let runner: GroupRunner | undefined
      const fetcher = boundedFetcher(openFetcher(), {
        startSeq: range.startSeq,
        endSeq: range.endSeq,
        delivered: { consumerSeq: ci.delivered.consumer_seq, streamSeq: ci.delivered.stream_seq },
        logger: log,
        reposition: async (afterSeq) => {
          await deleteReplayDurable(jsm, stream, durable)
          await createReplayDurable(jsm, stream, { ...durableSpec, startSeq: afterSeq + 1 })
          return openFetcher()
        },
        // Caught up: nothing held, nothing unacknowledged (retries included), nothing left up to the end.
        settled: async (endSeen) => {
          if (!runner?.idle) return false
          await nc.flush()
          const info = await getConsumer(jsm, stream, durable)
          if (!info || info.num_ack_pending > 0) return false
          if (endSeen || info.num_pending === 0) return true
          const next = await nextSeqOnSubject(jsm, stream, subject, info.delivered.stream_seq)
          return next === undefined || next > range.endSeq
        },
      })
      runner = new GroupRunner(group, stages.transforms, stages.sinks, {
        pipeline: spec.name,
        epoch,
        idEpoch: epoch,
        firstDeliveries: true, // the bounded fetcher checks the order (it is always given `reposition`)
        publisher,
        fetcher,
        logger: log,
        signal: abort.signal,
        maxDeliver: spec.delivery.maxDeliver,
        ackWaitMs: spec.delivery.ackWaitMs,
        ackAll: true,
      })
      stopRun = () => runner?.requestStop()
      if (abort.signal.aborted) runner.requestStop()
      const total = Math.min(ci.num_pending, range.endSeq - range.startSeq + 1)
      const started = Date.now()
      const report = (): void => opts.onProgress?.({ done: fetcher.counts.read + fetcher.counts.skipped, total, elapsedMs: Date.now() - started })
      const timer = setInterval(report, opts.progressEveryMs ?? 1000)
      try {
        await runner.run()
      } finally {
        clearInterval(timer)
      }
      report()
      Object.assign(result, { records: fetcher.counts.read, skipped: fetcher.counts.skipped, dead: runner.stats.dead, completed: fetcher.caughtUp })
    } finally {
      await stages.close()
      await nc.flush().catch(() => undefined)
      await publisher.close()
      await deleteReplayDurable(jsm, stream, durable).catch((err: unknown) => log.warn({ consumer: durable, err: (err as Error).message }, 'could not delete the replay consumer; the server removes it after 15 minutes idle'))
    }

    if (target && ch && opts.swap && result.completed) {
      result.table!.swapped = await swapTables(ch, target.original, target.into, String(epoch))
      log.info({ table: target.original, previous: target.into, how: result.table!.swapped }, 'swapped: the replayed data is now in the original table, the previous data in the other')
    }
    return result
  } finally {
    if (opts.handleSignals) {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
    await ch?.close().catch(() => undefined)
    await session.close()
  }
}
