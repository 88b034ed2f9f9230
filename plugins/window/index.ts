import { defineTransform, keyed, parseDuration, reject, type JsonObject, type JsonValue, type RecordMeta, type StatefulTransformProcessor, type TransformResult } from '../../core/plugin-api.js'
import { Aggregator, parseAggregates } from './aggregates.js'
import { WindowEngine, type ClosedWindow, type WindowSpec } from './engine.js'
import { groupOf, setPath } from './fields.js'
import { recordTime, formatTime, type TimeFormat, type TimeMode } from './time.js'

interface WindowConfig {
  kind: 'tumbling' | 'hopping' | 'session'
  every?: string
  size?: string
  gap?: string
  time: TimeMode
  timeField?: string
  lateness: string
  late: 'reject' | 'drop'
  groupBy: string[]
  aggregate: Record<string, string>
  startField: string
  endField: string
  timeFormat: TimeFormat
}

function windowSpec(cfg: WindowConfig): WindowSpec {
  const need = (v: string | undefined, name: string): number => {
    if (v === undefined) throw new Error(`a ${cfg.kind} window needs \`${name}\``)
    return parseDuration(v)
  }
  const latenessMs = parseDuration(cfg.lateness)
  if (cfg.kind === 'session') return { kind: 'session', sizeMs: 0, everyMs: 0, gapMs: need(cfg.gap, 'gap'), latenessMs }
  const every = need(cfg.every, 'every')
  if (cfg.kind === 'tumbling') return { kind: 'tumbling', sizeMs: every, everyMs: every, gapMs: 0, latenessMs }
  return { kind: 'hopping', sizeMs: need(cfg.size, 'size'), everyMs: every, gapMs: 0, latenessMs }
}

export default defineTransform<WindowConfig>({
  open(ctx): StatefulTransformProcessor {
    const cfg = ctx.config
    const spec = windowSpec(cfg)
    const agg = new Aggregator(parseAggregates(cfg.aggregate))
    const groupPaths = cfg.groupBy.map((f) => f.split('.'))
    const timePath = cfg.timeField?.split('.')
    const startPath = cfg.startField.split('.')
    const endPath = cfg.endField.split('.')
    // What the saved state was built for: a different window or aggregate list cannot continue it.
    const signature = `${spec.kind}/${spec.sizeMs}/${spec.everyMs}/${spec.gapMs}/${cfg.groupBy.join(',')}/${agg.signature()}`
    let engine = new WindowEngine(spec, agg)
    // Bumped by finish(): windows emitted by a later run for the same span get other ids.
    let gen = 0

    const emit = (w: ClosedWindow): JsonObject => {
      const out: JsonObject = {}
      groupPaths.forEach((p, i) => setPath(out, p, w.group[i] ?? null))
      setPath(out, startPath, formatTime(w.start, cfg.timeFormat))
      setPath(out, endPath, formatTime(w.end, cfg.timeFormat))
      agg.result(w.acc, out)
      return keyed(out, `${gen}|${w.start}|${w.end}|${w.key}`)
    }
    const lateResult = (t: number): TransformResult =>
      cfg.late === 'drop' ? null : reject(`late: time ${new Date(t).toISOString()} falls only in windows already closed by the watermark ${new Date(engine.watermark).toISOString()} (allowed lateness ${cfg.lateness})`)

    return {
      process(records: readonly JsonObject[], meta?: readonly RecordMeta[]): TransformResult[] {
        const out: TransformResult[] = new Array(records.length)
        for (let i = 0; i < records.length; i++) {
          const r = records[i]!
          const time = recordTime(r, meta?.[i], cfg.time, timePath)
          if (typeof time === 'string') {
            out[i] = reject(time)
            continue
          }
          // Processing time never makes a record late: a clock step back lands it in the open window.
          const t = cfg.time === 'processing' ? Math.max(time, engine.watermark) : time
          const read = agg.read(r)
          if ('error' in read) {
            out[i] = reject(read.error)
            continue
          }
          const g = groupOf(r, groupPaths)
          const res = engine.add(g.key, g.values, read.values, t)
          if (res.late) out[i] = lateResult(t)
          else out[i] = res.closed.length ? res.closed.map(emit) : null
        }
        return out
      },
      tick(watermarkMs: number): JsonObject[] {
        if (cfg.time !== 'processing') return []
        return engine.advance(watermarkMs - spec.latenessMs).map(emit)
      },
      finish(): JsonObject[] {
        const out = engine.flush().map(emit)
        gen++
        return out
      },
      snapshot(): JsonValue {
        return { v: 1, signature, gen, engine: engine.snapshot() }
      },
      restore(state: JsonValue): void {
        const s = state as { v?: number; signature?: string; gen?: number; engine?: JsonValue } | null
        if (!s || s.v !== 1) throw new Error('the saved state is not a window state (version 1)')
        if (s.signature !== signature) {
          throw new Error(`the saved windows were built by another configuration (${s.signature}, now ${signature}); give the stage a new \`id\` to start its windows afresh, or restore the old configuration`)
        }
        engine = new WindowEngine(spec, agg)
        engine.restore(s.engine ?? {})
        gen = s.gen ?? 0
      },
    }
  },
})
