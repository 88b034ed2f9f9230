import { createRuntime, type RunSummary } from '../../core/runtime/runtime.js'
import { loadPipeline } from '../../core/pipeline/load.js'
import { Session, openRegistry } from '../../core/app/session.js'

export interface RunningPipeline {
  /** Drains (as SIGTERM does) and resolves with the run's summary once everything is closed. */
  stop(): Promise<RunSummary>
  /** Resolves when the run ends on its own (finite input); rejects when it fails. */
  readonly done: Promise<RunSummary>
}

/**
 * Starts a pipeline file in this process and returns at once, for tests that act while it runs
 * (insert rows, send data) and then stop it. `runPipelineFile` is the same without the handle.
 */
export async function startPipeline(file: string, opts: { home: string; env: NodeJS.ProcessEnv }): Promise<RunningPipeline> {
  const spec = await loadPipeline(file, await openRegistry(opts.home), { env: opts.env })
  const session = new Session({ home: opts.home, env: opts.env, secrets: spec.secrets })
  try {
    const { nc } = await session.nats(spec.nats)
    // Alone on its durables, as `run` is under its run lease (not taken here).
    const runtime = await createRuntime(spec, { nc, registry: await session.registry(), logger: session.logger, openClickHouse: (o) => session.clickhouse(o) }, { exclusive: true })
    const done = runtime.done.finally(() => session.close())
    done.catch(() => undefined) // the caller awaits stop() or done
    return {
      done,
      stop() {
        runtime.stop()
        return done
      },
    }
  } catch (err) {
    await session.close()
    throw err
  }
}
