import { Session } from '../../app/session.js'
import { parseDuration } from '../../config/units.js'
import { checkFleetName } from '../names.js'
import { serverOnlyClickHouse } from './clickhouse-guard.js'
import { startWorker } from './worker.js'
import { limitHeapGrowth } from '../../runtime/heap-growth.js'

export interface RunWorkerOptions {
  home: string
  nats?: string
  env?: NodeJS.ProcessEnv
  fleet: string
  id?: string
  heartbeat?: string
  leaseTtl?: string
  /** First SIGINT/SIGTERM drains every pipeline; a second one exits at once. */
  handleSignals?: boolean
}

/** `tributary worker` in the foreground, until a signal drains it. */
export async function runWorker(opts: RunWorkerOptions): Promise<void> {
  limitHeapGrowth()
  const env = opts.env ?? process.env
  const fleet = checkFleetName(opts.fleet)
  const session = new Session({ home: opts.home, nats: opts.nats, env })
  const log = session.logger
  let worker: Awaited<ReturnType<typeof startWorker>> | undefined
  let stopping = false
  const onSignal = (sig: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ signal: sig }, 'second signal: exiting without draining')
      process.exit(130)
    }
    stopping = true
    worker?.stop()
  }
  if (opts.handleSignals) {
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  }
  try {
    const { nc } = await session.nats()
    worker = await startWorker({
      fleet,
      nc,
      registry: await session.registry(),
      logger: log,
      env,
      openClickHouse: serverOnlyClickHouse(opts.home, env),
      ...(opts.id ? { id: opts.id } : {}),
      ...(opts.heartbeat ? { heartbeatMs: parseDuration(opts.heartbeat) } : {}),
      ...(opts.leaseTtl ? { leaseTtlMs: parseDuration(opts.leaseTtl) } : {}),
    })
    if (stopping) worker.stop()
    await worker.done
  } finally {
    if (opts.handleSignals) {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
    await session.close()
  }
}
