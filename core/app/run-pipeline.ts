import { createRuntime, type RunSummary } from '../runtime/runtime.js'
import { loadPipeline } from '../pipeline/load.js'
import { Session, openRegistry } from './session.js'
import { RunObserver } from './observe-run.js'
import { limitHeapGrowth } from '../runtime/heap-growth.js'
import { holdRunLease } from '../runtime/run-lease.js'
import type { Lease } from '../lease/types.js'
import type { NatsConnection } from '@nats-io/nats-core'
import { TributaryError } from '../errors.js'

export interface RunOptions {
  home: string
  nats?: string
  env?: NodeJS.ProcessEnv
  /** Install SIGINT/SIGTERM handlers: first signal drains, a second one forces exit. */
  handleSignals?: boolean
  /** Serve /metrics, /healthz, /readyz on this port (0: a free one, logged); overrides the file's `metrics.port`. */
  metricsPort?: number
  /** Heartbeat (status document) and consumer polling period, ms (default 2000). */
  statusIntervalMs?: number
}

/** `tributary run FILE`: load, connect, run until finite input drains or a signal drains it. */
export async function runPipelineFile(file: string, opts: RunOptions): Promise<RunSummary> {
  limitHeapGrowth()
  const spec = await loadPipeline(file, await openRegistry(opts.home), { env: opts.env })
  const session = new Session({ home: opts.home, nats: opts.nats, env: opts.env, secrets: spec.secrets })
  const log = session.logger
  const port = opts.metricsPort ?? spec.metrics?.port
  const observer = new RunObserver({ spec, logger: log, intervalMs: opts.statusIntervalMs, ...(port !== undefined ? { http: { host: spec.metrics?.host ?? '127.0.0.1', port } } : {}) })
  const onSignal = (sig: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ signal: sig }, 'second signal: exiting without draining')
      process.exit(130)
    }
    stopping = true
    observer.draining()
    runtime?.stop()
  }
  let stopping = false
  let runtime: Awaited<ReturnType<typeof createRuntime>> | undefined
  let lease: Lease | undefined
  let releasing = false
  /** A second run that took the pipeline over while NATS was unreachable: this one stops. */
  let overtaken: unknown
  /**
   * A lease lost while NATS was unreachable (a server restart) is taken again once it answers
   * (nothing else could take it meanwhile). If another run did, this one drains and stops: the
   * groups read their durables alone (ack policy all), and two readers would reposition them
   * under each other.
   */
  const watchRunLease = (held: Lease, nc: NatsConnection): void => {
    held.lost.addEventListener('abort', () => {
      if (releasing) return
      log.warn({ err: (held.lost.reason as Error).message }, 'run lease lost; taking it again')
      void (async () => {
        while (!releasing) {
          try {
            lease = await holdRunLease(nc, spec.name, { replicas: spec.replicas })
            if (releasing) await lease.release()
            else watchRunLease(lease, nc)
            return
          } catch (err) {
            if (err instanceof TributaryError && err.code === 'E_RUNNING') {
              log.error({ err: err.message }, 'another run took this pipeline over while NATS was unreachable; this one stops')
              overtaken = err
              runtime?.stop()
              return
            }
            await new Promise((r) => setTimeout(r, 2000).unref())
          }
        }
      })()
    })
  }
  if (opts.handleSignals) {
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  }
  try {
    await observer.listen()
    const { nc, origin } = await session.nats(spec.nats)
    const registry = await session.registry()
    // One `run` per pipeline (a second is refused, naming this one); a fleet is how it scales out.
    lease = await holdRunLease(nc, spec.name, { replicas: spec.replicas, onError: (err) => log.warn({ err: (err as Error).message }, 'run lease renewal failed; retrying') })
    watchRunLease(lease, nc)
    runtime = await createRuntime(spec, { nc, registry, logger: log, openClickHouse: (o) => session.clickhouse(o), metrics: observer.metricsFor, http: observer.http }, { exclusive: true })
    await observer.running(nc, runtime.topology)
    if (stopping) {
      observer.draining()
      runtime.stop()
    }
    log.info({ pipeline: spec.name, nats: origin, groups: runtime.topology.groups.map((g) => ({ consumer: g.consumer, stages: [...g.transforms, ...g.sinks].map((s) => s.id), ...(g.partitioning ? { partitions: g.partitioning.count } : {}) })) }, 'pipeline running')
    const summary = await runtime.done.catch(async (err: unknown) => {
      await observer.stop('failed', err)
      throw err
    })
    if (overtaken) {
      await observer.stop('failed', overtaken)
      throw overtaken
    }
    await observer.stop('stopped')
    log.info({ pipeline: spec.name, published: summary.source.published, dead: summary.source.dead + summary.groups.reduce((n, g) => n + g.stats.dead, 0), completed: summary.completed }, summary.completed ? 'input drained; all records delivered' : 'stopped')
    return summary
  } finally {
    // Idempotent after a clean stop; closes the HTTP port when the start failed.
    await observer.stop('failed')
    releasing = true
    await lease?.release()
    if (opts.handleSignals) {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
    await session.close()
  }
}
