/**
 * `ctx.metrics` inside the isolated process: the plugin's counters and gauges live on the host's
 * registry. Operations are summed here and sent once a second (with the heartbeat), so a plugin
 * that counts every record costs one frame per second, not one per record.
 */
import type { PluginCounter, PluginGauge, PluginMetrics } from '../../plugin-api.js'
import type { MetricDef, MetricOp } from '../types.js'

export interface MetricsBuffer {
  metrics: PluginMetrics
  /** What happened since the last call (definitions first), or undefined when nothing did. */
  drain(): { defs: MetricDef[]; ops: MetricOp[] } | undefined
}

export function bufferedMetrics(): MetricsBuffer {
  let defs: MetricDef[] = []
  const ops = new Map<string, MetricOp>()
  const add = (name: string, op: MetricOp['op'] | 'dec', labels: Record<string, string> | undefined, n: number): void => {
    const key = `${name}\u0000${op === 'set' ? 'set' : 'add'}\u0000${JSON.stringify(labels ?? {})}`
    const prev = ops.get(key)
    if (op === 'set' || !prev) ops.set(key, { name, op: op === 'dec' ? 'inc' : op, labels: labels ?? {}, n: op === 'dec' ? -n : n })
    else prev.n += op === 'dec' ? -n : n
  }
  return {
    metrics: {
      counter(name, help, labelNames = []): PluginCounter {
        defs.push({ kind: 'counter', name, help, labelNames: [...labelNames] })
        return { inc: (labels, n = 1) => add(name, 'inc', labels, n) }
      },
      gauge(name, help, labelNames = []): PluginGauge {
        defs.push({ kind: 'gauge', name, help, labelNames: [...labelNames] })
        return {
          set: (value, labels) => add(name, 'set', labels, value),
          inc: (labels, n = 1) => add(name, 'inc', labels, n),
          dec: (labels, n = 1) => add(name, 'dec', labels, n),
        }
      },
    },
    drain() {
      if (defs.length === 0 && ops.size === 0) return undefined
      const out = { defs, ops: [...ops.values()] }
      defs = []
      ops.clear()
      return out
    },
  }
}
