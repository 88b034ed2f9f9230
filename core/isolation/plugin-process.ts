/**
 * One isolated plugin process, seen from the host: spawned with an environment holding only the
 * declared variables, answered one frame per hook call, watched for hangs (a hook that does not
 * answer within the hook timeout, or an event loop silent as long) and killed then. When the
 * process exits unexpectedly every call in flight fails with `E_PLUGIN_CRASHED`; the supervisor
 * decides what comes next.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import type { Readable, Writable } from 'node:stream'
import { TributaryError } from '../errors.js'
import type { JsonValue, Logger, PluginCounter, PluginGauge, PluginMetrics, StateStore } from '../plugin-api.js'
import { deserializeError, serializeError } from './error-codec.js'
import { frameWriter, readFrames, type FrameWriter } from './framing.js'
import type { ChildToHost, HookName, HostToChild, InitMessage, MetricDef, MetricOp, OpenedInfo } from './types.js'

export interface ProcessDeps {
  /** `[command, ...args]`: bwrap … node …, or node … alone. */
  argv: string[]
  env: Record<string, string>
  cwd: string
  /** Prefix of every message about this plugin: `plugin "geo" (transform, stage enrich)`. */
  who: string
  logger: Logger
  state: StateStore
  /** The stage's `ctx.metrics` on the host. */
  metrics: PluginMetrics
  hookTimeoutMs: number
}

export interface ExitInfo {
  code: number | null
  signal: NodeJS.Signals | null
  /** Why the host killed it (a hang), if it did. */
  killedFor?: string
  /** The process's last lines on stderr (a stack trace, usually). */
  stderrTail: string
}

interface Pending {
  hook: string
  resolve(v: unknown): void
  reject(e: Error): void
  timer?: NodeJS.Timeout
}

const STDERR_TAIL = 2048

export class PluginProcess {
  private readonly child: ChildProcess
  private readonly out: FrameWriter
  private readonly pending = new Map<number, Pending>()
  private nextId = 1
  private lastHeard = Date.now()
  private readonly watchdog: NodeJS.Timeout
  private stderrTail = ''
  private killedFor: string | undefined
  private closing = false
  /** Resolves when the process has exited, with how. */
  readonly exited: Promise<ExitInfo>

  constructor(private readonly deps: ProcessDeps) {
    this.child = spawn(deps.argv[0]!, deps.argv.slice(1), { cwd: deps.cwd, env: deps.env, stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'] })
    this.out = frameWriter(this.child.stdio[3] as Writable)
    ;(this.child.stdio[3] as Writable).on('error', () => undefined) // a dead child: its exit is reported instead
    readFrames(this.child.stdio[4] as Readable, (m) => this.onFrame(m as ChildToHost), (err) => this.kill(`it sent a malformed frame (${err.message})`))
    this.forwardOutput(this.child.stdout!, 'info')
    this.forwardOutput(this.child.stderr!, 'warn', (text) => {
      this.stderrTail = (this.stderrTail + text).slice(-STDERR_TAIL)
    })
    this.exited = new Promise((resolve) => {
      this.child.on('error', (err) => {
        this.stderrTail += `\n${err.message}`
      })
      this.child.on('close', (code, signal) => {
        clearInterval(this.watchdog)
        const info: ExitInfo = { code, signal, stderrTail: this.stderrTail.trim(), ...(this.killedFor ? { killedFor: this.killedFor } : {}) }
        const why = this.describeExit(info)
        for (const [id, p] of this.pending) {
          clearTimeout(p.timer)
          this.pending.delete(id)
          p.reject(new TributaryError('E_PLUGIN_CRASHED', `${deps.who} crashed in ${p.hook}(): ${why}`, { hint: 'the plugin process is restarted with back-off; fix the plugin if it keeps crashing' }))
        }
        resolve(info)
      })
    })
    // A blocked event loop sends no heartbeat: killed like a hook that never answers.
    this.watchdog = setInterval(() => {
      const silent = Date.now() - this.lastHeard
      if (silent > deps.hookTimeoutMs) this.kill(`its event loop was blocked for ${Math.round(silent / 1000)}s (isolation.hookTimeout is ${deps.hookTimeoutMs / 1000}s)`)
    }, Math.min(1000, deps.hookTimeoutMs / 2))
    this.watchdog.unref()
  }

  get pid(): number | undefined {
    return this.child.pid
  }

  /** Loads and opens the plugin in the child. */
  init(msg: Omit<InitMessage, 't' | 'id'>): Promise<OpenedInfo> {
    return this.request('open', (id) => ({ t: 'init', id, ...msg }), true) as Promise<OpenedInfo>
  }

  /** One hook call; `read` alone has no timeout (a source may wait for input), the heartbeat covers it. */
  call(hook: HookName, args: JsonValue[]): Promise<unknown> {
    return this.request(hook, (id) => ({ t: 'call', id, hook, args }), hook !== 'read')
  }

  notify(msg: HostToChild): void {
    if (this.child.exitCode === null && !this.closing) this.out.send(msg)
  }

  /** Closes the stage's side: the child exits when its input ends; killed if it does not within 5 s. */
  async shutdown(): Promise<ExitInfo> {
    this.closing = true
    ;(this.child.stdio[3] as Writable).end()
    const t = setTimeout(() => this.kill('it did not exit within 5s of being closed'), 5000)
    const info = await this.exited
    clearTimeout(t)
    return info
  }

  kill(reason: string): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    this.killedFor ??= reason
    this.child.kill('SIGKILL')
  }

  private request(hook: string, frame: (id: number) => HostToChild, timed: boolean): Promise<unknown> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) {
      return Promise.reject(new TributaryError('E_PLUGIN_CRASHED', `${this.deps.who} is not running (${hook}())`))
    }
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      const p: Pending = { hook, resolve, reject }
      if (timed) p.timer = setTimeout(() => this.kill(`${hook}() did not answer within ${this.deps.hookTimeoutMs / 1000}s (isolation.hookTimeout)`), this.deps.hookTimeoutMs)
      this.pending.set(id, p)
      this.out.send(frame(id))
    })
  }

  private onFrame(m: ChildToHost): void {
    this.lastHeard = Date.now()
    switch (m.t) {
      case 'res': {
        const p = this.pending.get(m.id)
        if (!p) return
        this.pending.delete(m.id)
        clearTimeout(p.timer)
        if (m.ok) p.resolve(m.value)
        else p.reject(deserializeError(m.error))
        return
      }
      case 'req':
        void this.serve(m.id, m.op, m.key, m.value)
        return
      case 'log':
        this.deps.logger[m.level](typeof m.obj === 'string' ? m.obj : (m.obj as object), m.msg)
        return
      case 'alive':
        if (m.metrics) this.applyMetrics(m.metrics.defs, m.metrics.ops)
        return
    }
  }

  private readonly series = new Map<string, PluginCounter | PluginGauge>()

  private applyMetrics(defs: MetricDef[], ops: MetricOp[]): void {
    try {
      for (const d of defs) this.series.set(d.name, d.kind === 'counter' ? this.deps.metrics.counter(d.name, d.help, d.labelNames) : this.deps.metrics.gauge(d.name, d.help, d.labelNames))
      for (const o of ops) {
        const s = this.series.get(o.name)
        if (!s) continue
        if (o.op === 'set' && 'set' in s) s.set(o.n, o.labels)
        else s.inc(o.labels, o.n)
      }
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message }, `${this.deps.who}: a metric of the plugin was refused`)
    }
  }

  /** What the plugin asks of the host: its stage's KV state (nothing else is served). */
  private async serve(id: number, op: 'state.get' | 'state.put', key: string, value?: JsonValue): Promise<void> {
    try {
      const v = op === 'state.get' ? await this.deps.state.get(String(key)) : await this.deps.state.put(String(key), value ?? null)
      this.notify({ t: 'reply', id, ok: true, value: v ?? null })
    } catch (err) {
      this.notify({ t: 'reply', id, ok: false, error: serializeError(err) })
    }
  }

  private describeExit(info: ExitInfo): string {
    const how = info.killedFor ? `killed: ${info.killedFor}` : info.signal ? `killed by ${info.signal}` : `exited with code ${String(info.code)}`
    const last = info.stderrTail.split('\n').filter(Boolean).slice(-3).join(' | ')
    return last && !info.killedFor ? `${how}; it printed: ${last}` : how
  }

  private forwardOutput(stream: Readable, level: 'info' | 'warn', tap?: (text: string) => void): void {
    let partial = ''
    stream.on('data', (d: Buffer) => {
      const text = d.toString()
      tap?.(text)
      const lines = (partial + text).split('\n')
      partial = lines.pop()!
      for (const line of lines) if (line.trim()) this.deps.logger[level]({ output: level === 'info' ? 'stdout' : 'stderr' }, line)
    })
  }
}
