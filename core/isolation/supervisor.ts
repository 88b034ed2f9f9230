/**
 * Keeps one isolated stage's process running. A process that dies (or is killed for hanging)
 * fails the calls in flight — the runtime then redelivers or retries their batch, so nothing is
 * lost — and is restarted with exponential back-off. A successful hook call resets the count;
 * after `restarts` crashes in a row the stage stops with a StageStoppedError, and every later
 * call fails with it. A stateful plugin is not restarted: its state died with the process, and
 * only the runtime's rollback to the last saved snapshot can restore it.
 */
import { TributaryError, errorMessage } from '../errors.js'
import type { JsonValue, Logger } from '../plugin-api.js'
import { backoffDelay, sleep } from '../runtime/backoff.js'
import type { ExitInfo, PluginProcess } from './plugin-process.js'
import { StageStoppedError } from './stage-stopped.js'
import type { HookName, HostToChild, OpenedInfo } from './types.js'

export interface SupervisorDeps {
  who: string
  stage: string
  logger: Logger
  restarts: number
  restartable: boolean
  /** Starts a process and opens the plugin in it (a source resumes after its last checkpoint). */
  start(): Promise<{ proc: PluginProcess; opened: OpenedInfo }>
  /** Called with each new process (to replay notifications such as abort). */
  started?(proc: PluginProcess): void
}

export class Supervisor {
  private proc: PluginProcess | undefined
  private ready: Promise<PluginProcess> | undefined
  private crashes = 0
  private gen = 0
  private stopped: Error | undefined
  private closing = false
  private readonly wake = new AbortController()
  /** Restarts so far, for status and tests. */
  restartsDone = 0

  constructor(private readonly deps: SupervisorDeps) {}

  async open(): Promise<OpenedInfo> {
    const { proc, opened } = await this.deps.start()
    this.attach(proc)
    return opened
  }

  async call(hook: HookName, args: JsonValue[]): Promise<unknown> {
    const proc = await this.current()
    const value = await proc.call(hook, args)
    this.crashes = 0
    return value
  }

  /** Numbers the processes: a notification meant for one (a source batch's `settled`) is not sent to its successor. */
  get generation(): number {
    return this.gen
  }

  notify(msg: HostToChild, generation = this.gen): void {
    if (generation === this.gen) this.proc?.notify(msg)
  }

  /** Calls the plugin's close hook if it is running, then ends its process. */
  async close(hasCloseHook: boolean): Promise<void> {
    if (this.closing) return
    // A stopped or restarting stage has no live plugin to close.
    const proc = this.stopped || this.ready || !this.proc ? undefined : this.proc
    try {
      if (proc && hasCloseHook) await proc.call('close', [])
    } finally {
      this.closing = true
      this.wake.abort()
      await this.proc?.shutdown()
    }
  }

  private async current(): Promise<PluginProcess> {
    if (this.stopped) throw this.stopped
    if (this.closing) throw new TributaryError('E_PLUGIN', `${this.deps.who} is closed`)
    if (this.ready) return this.ready
    return this.proc!
  }

  private attach(proc: PluginProcess): void {
    this.proc = proc
    this.gen++
    this.deps.started?.(proc)
    void proc.exited.then((info) => {
      if (!this.closing && this.proc === proc) this.crashed(info)
    })
  }

  private crashed(info: ExitInfo): void {
    this.crashes++
    const why = info.killedFor ?? (info.signal ? `killed by ${info.signal}` : `exited with code ${String(info.code)}`)
    if (!this.deps.restartable) {
      this.stop(new TributaryError('E_PLUGIN_CRASHED', `${this.deps.who} crashed (${why}); a stateful plugin is not restarted in place: the pipeline resumes from its last saved state when started again`))
      return
    }
    if (this.crashes > this.deps.restarts) {
      this.stop(new StageStoppedError(this.deps.stage, `${this.deps.who} stopped after ${this.crashes} crashes in a row (isolation.restarts is ${this.deps.restarts}); the last: ${why}${info.stderrTail && !info.killedFor ? `: ${lastLine(info.stderrTail)}` : ''}`))
      return
    }
    const delay = backoffDelay(this.crashes - 1, 250, 10_000)
    this.deps.logger.warn({ stage: this.deps.stage, crashes: this.crashes, restartInMs: delay, reason: why, output: lastLine(info.stderrTail) }, 'isolated plugin process died; restarting it')
    this.ready = this.restart(delay)
    this.ready.catch(() => undefined)
  }

  private async restart(delay: number): Promise<PluginProcess> {
    for (;;) {
      await sleep(delay, this.wake.signal)
      if (this.closing) throw new TributaryError('E_PLUGIN', `${this.deps.who} is closed`)
      try {
        const { proc } = await this.deps.start()
        if (this.closing) {
          await proc.shutdown()
          throw new TributaryError('E_PLUGIN', `${this.deps.who} is closed`)
        }
        this.restartsDone++
        this.ready = undefined
        this.attach(proc)
        return proc
      } catch (err) {
        if (this.closing) throw err
        this.crashes++
        if (this.crashes > this.deps.restarts) {
          const stopped = new StageStoppedError(this.deps.stage, `${this.deps.who} stopped: it could not be restarted ${this.crashes} times in a row; the last: ${errorMessage(err)}`, err)
          this.stop(stopped)
          throw stopped
        }
        delay = backoffDelay(this.crashes - 1, 250, 10_000)
        this.deps.logger.warn({ stage: this.deps.stage, crashes: this.crashes, restartInMs: delay, err: errorMessage(err) }, 'isolated plugin could not be restarted; trying again')
      }
    }
  }

  private stop(err: Error): void {
    this.stopped = err
    this.ready = Promise.reject(err)
    this.ready.catch(() => undefined)
    this.deps.logger.error({ stage: this.deps.stage, err: err.message }, 'isolated plugin stage stopped')
  }
}

function lastLine(text: string): string {
  return text.split('\n').filter(Boolean).slice(-1)[0] ?? ''
}
