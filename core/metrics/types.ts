import type { PluginKind, PluginMetrics } from '../plugin-api.js'

/**
 * What a runner reports about one stage. Every call covers a batch (or one plugin call), never a
 * single record, so the hot path pays a few counter increments per batch.
 */
export interface StageMeter {
  /** One plugin call over a batch: records in and out, and the seconds the call took. */
  batch(inputs: number, outputs: number, seconds: number): void
  /** Records counted outside a plugin call: a sink's buffered inputs, a source's acknowledged outputs. */
  count(inputs: number, outputs: number): void
  /** Records this stage set aside to the dead-letter subject. */
  dead(n: number): void
  /** A plugin call that threw (retried, isolated or fatal); kept as the stage's last error. */
  error(err: unknown): void
  /** Inputs acknowledged (or, for a source, outputs acknowledged by JetStream) `seconds` after they arrived. */
  acked(n: number, seconds: number): void
  /** A sink write that succeeded: rows and the insert's latency. */
  written(rows: number, seconds: number): void
  /** The group's fetch loop was found wedged and recreated (its durable kept). */
  consumerRestarted(): void
}

export interface StageDescription {
  id: string
  kind: PluginKind
  use: string
  /** Id of the consuming group the stage runs in (absent for the source). */
  group?: string
}

/** Plain running totals of a stage, for the status document (rates are derived from them). */
export interface StageTotals extends StageDescription {
  in: number
  out: number
  dead: number
  errors: number
  acked: number
  lastError?: { message: string; at: string }
}

/** The runtime's metrics: one meter per stage, totals for status, and the Prometheus registry behind them. */
export interface RuntimeMetrics {
  stage(id: string): StageMeter
  totals(): StageTotals[]
  /** A stage's plugin-defined series (`ctx.metrics`); absent: plugins' series go nowhere. */
  plugin?(stageId: string): PluginMetrics
}
