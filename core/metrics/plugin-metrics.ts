import { Counter, Gauge, type Registry } from 'prom-client'
import type { PluginCounter, PluginGauge, PluginMetrics } from '../plugin-api.js'
import { TributaryError } from '../errors.js'

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const OWN = ['pipeline', 'stage']

/**
 * `ctx.metrics` of one stage: plugin-defined counters and gauges on the runtime's registry. Every
 * stage of a plugin gets the same series (created by the first, found by the others) with its
 * `pipeline` and `stage` labels filled in, so two push sinks are two label sets of one metric.
 */
export function pluginMetrics(registry: Registry, pipeline: string, stage: string): PluginMetrics {
  const fixed = { pipeline, stage }
  // pipeline and stage first (as the runtime's own series print them), and never overridden.
  const at = (labels?: Record<string, string>): Record<string, string> => ({ ...fixed, ...labels, ...fixed })
  const metric = <M extends Counter<string> | Gauge<string>>(kind: 'counter' | 'gauge', name: string, help: string, labelNames: readonly string[], make: (labels: string[]) => M): M => {
    if (!NAME.test(name)) throw new TributaryError('E_PLUGIN', `metric name ${JSON.stringify(name)} is not a Prometheus name`, { hint: 'use letters, digits and _, e.g. tributary_push_dropped_total' })
    const bad = labelNames.find((l) => !LABEL.test(l) || OWN.includes(l))
    if (bad !== undefined) throw new TributaryError('E_PLUGIN', `metric ${name}: label ${JSON.stringify(bad)} is not allowed`, { hint: 'labels are Prometheus names; `pipeline` and `stage` are added by the runtime' })
    const labels = [...OWN, ...labelNames]
    const existing = registry.getSingleMetric(name)
    if (existing) {
      const sameKind = kind === 'counter' ? existing instanceof Counter : existing instanceof Gauge
      const sameLabels = JSON.stringify((existing as unknown as { labelNames: string[] }).labelNames) === JSON.stringify(labels)
      if (!sameKind || !sameLabels) throw new TributaryError('E_PLUGIN', `metric ${name} already exists as another ${sameKind ? 'label set' : 'kind'}`, { hint: 'give the series another name' })
      return existing as M
    }
    return make(labels)
  }
  return {
    counter(name, help, labelNames = []): PluginCounter {
      const c = metric('counter', name, help, labelNames, (labelNames) => new Counter({ name, help, labelNames, registers: [registry] }))
      // Zero from the start, so rate() and alerts see the series before the first event.
      if (labelNames.length === 0) c.inc(fixed, 0)
      return { inc: (labels, n = 1) => c.inc(at(labels), n) }
    },
    gauge(name, help, labelNames = []): PluginGauge {
      const g = metric('gauge', name, help, labelNames, (labelNames) => new Gauge({ name, help, labelNames, registers: [registry] }))
      if (labelNames.length === 0) g.set(fixed, 0)
      return {
        set: (value, labels) => g.set(at(labels), value),
        inc: (labels, n = 1) => g.inc(at(labels), n),
        dec: (labels, n = 1) => g.dec(at(labels), n),
      }
    },
  }
}

/** `ctx.metrics` where nothing is measured (replay, tests, the conformance suite). */
export const noPluginMetrics: PluginMetrics = {
  counter: () => ({ inc() {} }),
  gauge: () => ({ set() {}, inc() {}, dec() {} }),
}
