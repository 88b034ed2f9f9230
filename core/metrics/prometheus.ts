import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import { errorMessage } from '../errors.js'
import { noMeter } from './noop.js'
import { pluginMetrics } from './plugin-metrics.js'
import type { RuntimeMetrics, StageDescription, StageMeter, StageTotals } from './types.js'

const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
const SIZE_BUCKETS = [1, 10, 100, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000, 100_000]

/** Gauges the monitor sets from consumer and stream info (polled, not on the data path). */
export interface PolledGauges {
  consumerPending: Gauge<'pipeline' | 'stage' | 'consumer'>
  consumerAckPending: Gauge<'pipeline' | 'stage' | 'consumer'>
  consumerRedelivered: Gauge<'pipeline' | 'stage' | 'consumer'>
  oldestUnackedAge: Gauge<'pipeline' | 'stage' | 'consumer'>
  retentionUsed: Gauge<'pipeline' | 'stage' | 'consumer'>
  streamMessages: Gauge<'pipeline'>
  streamBytes: Gauge<'pipeline'>
  streamMaxBytes: Gauge<'pipeline'>
  streamMaxAge: Gauge<'pipeline'>
  dlqMessages: Gauge<'pipeline'>
  ready: Gauge<'pipeline'>
}

export interface PrometheusRuntimeMetrics extends RuntimeMetrics {
  readonly registry: Registry
  readonly gauges: PolledGauges
}

/**
 * The runtime's metrics, registered on the registry given (one per runtime: several runtimes can
 * live in one process, as in tests). Series are per stage, labelled `pipeline` and `stage`; `tributary_stage_info`
 * carries each stage's kind, plugin and consuming group for dashboards to join on.
 */
export function createRuntimeMetrics(registry: Registry, pipeline: string, stages: StageDescription[], opts: { instance: string; version: string }): PrometheusRuntimeMetrics {
  const stageLabels = ['pipeline', 'stage'] as const
  const counter = (name: string, help: string): Counter<'pipeline' | 'stage'> => new Counter({ name, help, labelNames: stageLabels, registers: [registry] })
  const histogram = (name: string, help: string, buckets: number[]): Histogram<'pipeline' | 'stage'> => new Histogram({ name, help, labelNames: stageLabels, buckets, registers: [registry] })
  const consumerGauge = (name: string, help: string): Gauge<'pipeline' | 'stage' | 'consumer'> =>
    new Gauge({ name, help, labelNames: ['pipeline', 'stage', 'consumer'], registers: [registry] })
  const pipelineGauge = (name: string, help: string): Gauge<'pipeline'> => new Gauge({ name, help, labelNames: ['pipeline'], registers: [registry] })

  const recordsIn = counter('tributary_stage_records_in_total', 'Records a stage received (a source: items read; a sink: records routed to it)')
  const recordsOut = counter('tributary_stage_records_out_total', 'Records a stage emitted (a source: acknowledged by JetStream; a sink: rows written)')
  const errors = counter('tributary_stage_errors_total', 'Plugin calls of a stage that threw (retried, isolated or fatal)')
  const dlq = counter('tributary_stage_dlq_records_total', 'Records a stage sent to the dead-letter subject')
  const acked = counter('tributary_stage_acked_total', 'Inputs a consuming group acknowledged (labelled by the group\'s first stage); for a source, records JetStream acknowledged')
  const batchSize = histogram('tributary_stage_batch_size', 'Records per plugin call (read, process, write)', SIZE_BUCKETS)
  const processing = histogram('tributary_stage_processing_seconds', 'Duration of a plugin call over a batch (read, process)', LATENCY_BUCKETS)
  const ackLatency = histogram('tributary_stage_ack_latency_seconds', 'From a batch\'s arrival to its acknowledgement (a source: publish to JetStream ack)', LATENCY_BUCKETS)
  const consumerRestarts = counter('tributary_consumer_restarts_total', 'Times a group\'s fetch loop stopped receiving while its durable had messages, and was recreated (labelled by the group\'s first stage)')
  const writeLatency = histogram('tributary_sink_write_seconds', 'Duration of a sink write (the ClickHouse insert for the clickhouse sink)', LATENCY_BUCKETS)
  const info = new Gauge({ name: 'tributary_stage_info', help: 'One series per stage: kind, plugin and consuming group', labelNames: ['pipeline', 'stage', 'kind', 'plugin', 'group'], registers: [registry] })
  new Gauge({ name: 'tributary_runtime_info', help: 'The running Tributary runtime (runtime: <host>-<pid>, as in `pipelines status`)', labelNames: ['pipeline', 'runtime', 'version'], registers: [registry] }).set({ pipeline, runtime: opts.instance, version: opts.version }, 1)

  const gauges: PolledGauges = {
    consumerPending: consumerGauge('tributary_consumer_pending_messages', 'Messages in the stream not yet delivered to the stage\'s durable consumer'),
    consumerAckPending: consumerGauge('tributary_consumer_ack_pending_messages', 'Messages delivered to the consumer and not yet acknowledged'),
    consumerRedelivered: consumerGauge('tributary_consumer_redelivered_messages', 'Messages delivered more than once and not yet acknowledged'),
    oldestUnackedAge: consumerGauge('tributary_consumer_oldest_unacked_age_seconds', 'Age of the oldest message the consumer has not acknowledged (0 when caught up)'),
    retentionUsed: consumerGauge('tributary_consumer_retention_used_ratio', 'Oldest unacknowledged age divided by the stream\'s max_age: at 1 unprocessed data is deleted (0 without max_age)'),
    streamMessages: pipelineGauge('tributary_stream_messages', 'Messages in the pipeline\'s stream'),
    streamBytes: pipelineGauge('tributary_stream_bytes', 'Bytes in the pipeline\'s stream'),
    streamMaxBytes: pipelineGauge('tributary_stream_max_bytes', 'The stream\'s size bound (a full stream pushes back to the source)'),
    streamMaxAge: pipelineGauge('tributary_stream_max_age_seconds', 'The stream\'s retention (0: unlimited)'),
    dlqMessages: pipelineGauge('tributary_dlq_messages', 'Messages on the pipeline\'s dead-letter subject'),
    ready: pipelineGauge('tributary_runtime_ready', '1 while the pipeline runs (plugins open, consumers fetching), 0 while starting or draining'),
  }

  const totals = new Map<string, StageTotals>()
  const meters = new Map<string, StageMeter>()
  for (const s of stages) {
    const labels = { pipeline, stage: s.id }
    info.set({ ...labels, kind: s.kind, plugin: s.use, group: s.group ?? '' }, 1)
    const t: StageTotals = { ...s, in: 0, out: 0, dead: 0, errors: 0, acked: 0 }
    totals.set(s.id, t)
    // Children bound once: a report costs a counter update, not a label lookup per record.
    const c = { in: recordsIn.labels(labels), out: recordsOut.labels(labels), err: errors.labels(labels), dlq: dlq.labels(labels), acked: acked.labels(labels), restarts: consumerRestarts.labels(labels) }
    const h = { size: batchSize.labels(labels), proc: processing.labels(labels), ack: ackLatency.labels(labels), write: writeLatency.labels(labels) }
    // Zero-valued series exist from the start, so rate() and dashboards see every stage at once.
    for (const x of Object.values(c)) x.inc(0)
    meters.set(s.id, {
      batch(inputs, outputs, seconds) {
        t.in += inputs
        t.out += outputs
        c.in.inc(inputs)
        c.out.inc(outputs)
        h.size.observe(inputs)
        h.proc.observe(seconds)
      },
      count(inputs, outputs) {
        t.in += inputs
        t.out += outputs
        if (inputs) c.in.inc(inputs)
        if (outputs) c.out.inc(outputs)
      },
      dead(n) {
        if (n <= 0) return
        t.dead += n
        c.dlq.inc(n)
      },
      error(err) {
        t.errors++
        t.lastError = { message: errorMessage(err), at: new Date().toISOString() }
        c.err.inc()
      },
      acked(n, seconds) {
        t.acked += n
        c.acked.inc(n)
        h.ack.observe(seconds)
      },
      written(rows, seconds) {
        t.out += rows
        c.out.inc(rows)
        h.size.observe(rows)
        h.write.observe(seconds)
      },
      consumerRestarted() {
        c.restarts.inc()
      },
    })
  }

  return {
    registry,
    gauges,
    stage(id) {
      // A stage the runtime was not told about (none today) reports nowhere rather than failing the run.
      return meters.get(id) ?? noMeter
    },
    totals: () => [...totals.values()].map((t) => ({ ...t })),
    plugin: (stageId) => pluginMetrics(registry, pipeline, stageId),
  }
}
