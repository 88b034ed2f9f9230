import type { Logger } from '../../log/logger.js'
import type { Lease } from '../../lease/types.js'
import type { Runtime, RunSummary } from '../../runtime/runtime.js'
import { backoffDelay, sleep } from '../../runtime/backoff.js'
import { errorMessage } from '../../errors.js'

export type UnitState = 'standby' | 'running' | 'idle' | 'failed' | 'stopped'

export interface UnitOptions {
  /** `groups`, `source`, `stateful`: how the worker reports it. */
  label: string
  /** Aborted when the worker stops running the pipeline (stop, removal, new revision, exit). */
  signal: AbortSignal
  /** Single-owner parts run only while this process holds the lease. */
  lease?: UnitLease
  /**
   * After a run that reached the end of its finite input: resolves when the part should run again
   * (absent: it idles, holding its lease, until stopped).
   */
  resume?(summary: RunSummary, signal: AbortSignal): Promise<void>
  /** Opens a runtime for this part (plugins opened, consumers ensured). */
  start(): Promise<Runtime>
  logger: Logger
  onState(state: UnitState, err?: unknown): void
}

export interface UnitLease {
  key: string
  /** Waits until this process holds the lease; undefined once `signal` aborts. */
  acquire(signal: AbortSignal): Promise<Lease | undefined>
}

/** A signal that aborts with any of `signals`; dispose() removes its listeners (loops must not pile them up). */
function linked(signals: AbortSignal[]): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController()
  const abort = (): void => ac.abort()
  for (const s of signals) {
    if (s.aborted) ac.abort()
    else s.addEventListener('abort', abort, { once: true })
  }
  return { signal: ac.signal, dispose: () => signals.forEach((s) => s.removeEventListener('abort', abort)) }
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })))
}

/**
 * Keeps one part of a pipeline running on this worker until `signal` aborts: waits for its lease
 * if it has one, opens a runtime, drains it when the lease is lost or the signal aborts, and
 * starts it again after a failure (with back-off, the lease released so another worker may try).
 * A part whose finite input is done holds on to its lease without running again: re-running it
 * would only find nothing new to read — until `resume` says otherwise (a stateful part whose
 * source started reading again).
 */
export async function superviseUnit(o: UnitOptions): Promise<void> {
  let attempt = 0
  while (!o.signal.aborted) {
    let hold: Lease | undefined
    if (o.lease) {
      o.onState('standby')
      hold = await o.lease.acquire(o.signal)
      if (!hold) break
      o.logger.info({ part: o.label, lease: o.lease.key }, 'lease acquired: running this part here')
    }
    const stop = linked(hold ? [o.signal, hold.lost] : [o.signal])
    const stopWhen = stop.signal
    let failed = false
    try {
      const runtime = await o.start()
      o.onState('running')
      if (stopWhen.aborted) runtime.stop()
      else stopWhen.addEventListener('abort', () => runtime.stop(), { once: true })
      const summary = await runtime.done
      attempt = 0
      if ((summary.source.finished || summary.completed) && !stopWhen.aborted) {
        o.onState('idle')
        await Promise.race([aborted(stopWhen), ...(o.resume ? [o.resume(summary, stopWhen)] : [])])
      }
      if (hold?.lost.aborted && !o.signal.aborted) o.logger.warn({ part: o.label, reason: errorMessage(hold.lost.reason) }, 'lease lost: stopped this part here')
    } catch (err) {
      failed = true
      o.onState('failed', err)
      o.logger.error({ part: o.label, err: errorMessage(err) }, 'pipeline part failed; starting it again after a pause')
    } finally {
      stop.dispose()
      await hold?.release()
    }
    if (failed) await sleep(backoffDelay(attempt++, 1000, 60_000), o.signal)
  }
  o.onState('stopped')
}
