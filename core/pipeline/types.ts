import type { JsonObject, PluginKind } from '../plugin-api.js'

/** NATS connection settings, from --nats / NATS_URL / the pipeline file (normalized). */
export interface NatsConnectionConfig {
  servers: string[]
  user?: string
  password?: string
  token?: string
  /** Path of a .creds file (JWT + nkey seed). */
  creds?: string
  /** Path of an nkey seed file. */
  nkey?: string
  tls?: { ca?: string; cert?: string; key?: string }
}

export interface StageSpec {
  /** Stable id: given in the file or derived from the plugin name, suffixed when repeated. */
  id: string
  kind: PluginKind
  use: string
  /** Validated against the plugin's config schema, defaults applied, secrets resolved. */
  config: JsonObject
  /** A sink-level routing expression (same language as `filter`). */
  where?: string
  /** Force a JetStream boundary before this stage (otherwise stateless stages fuse). */
  boundary?: boolean
  /** JSON path of the stage in the file, e.g. `transforms[1]`, for error messages. */
  path: string
  /** Key partitions of a stateful stage (absent: 1, the stage runs whole). */
  partitions?: number
  /** With partitions > 1: the dotted field paths whose values are a record's key (from the plugin's `partitionBy`). */
  partitionKey?: string[]
}

export interface RetentionSpec {
  /** Max age of messages in the pipeline's stream, ms (0 = unlimited). */
  maxAgeMs: number
  /** Bound of the stream; a full stream pushes back to sources (discard: new). */
  maxBytes: number
  /** Window in which a repeated message id is dropped, ms. */
  duplicateWindowMs: number
}

export interface DeliverySpec {
  /** Deliveries of a failing input before it goes to the DLQ. */
  maxDeliver: number
  ackWaitMs: number
}

/** `isolation` of the pipeline file: how community plugins run (core/isolation). */
export interface IsolationSpec {
  hookTimeoutMs: number
  restarts: number
  namespaces: 'required' | 'if-available'
}

export interface PipelineSpec {
  name: string
  /** Absolute path of the pipeline file ('' when built in memory). */
  file: string
  baseDir: string
  source: StageSpec
  transforms: StageSpec[]
  sinks: StageSpec[]
  retention: RetentionSpec
  delivery: DeliverySpec
  /** Absent in specs built in memory: the defaults apply. */
  isolation?: IsolationSpec
  /** Stream replicas (1 by default). */
  replicas: number
  nats?: NatsConnectionConfig
  /** The runtime's HTTP port for /metrics, /healthz, /readyz (absent: off unless `run --metrics-port`). */
  metrics?: { port: number; host: string }
  /** Secret values resolved from references: never logged (the logger redacts them). */
  secrets: string[]
}
