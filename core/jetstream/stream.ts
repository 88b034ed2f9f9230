import { DiscardPolicy, JetStreamApiCodes, JetStreamApiError, RetentionPolicy, StorageType, type JetStreamManager, type StreamInfo } from '@nats-io/jetstream'
import { nanos } from '@nats-io/nats-core'
import type { PipelineSpec } from '../pipeline/types.js'
import { pipelineSubjects, streamName } from './names.js'

/**
 * One stream per pipeline, bounded (discard: new) so a full stream pushes back to sources
 * instead of dropping unconsumed data; `max_age` is retention, as Kafka's is.
 */
export function streamConfig(spec: PipelineSpec) {
  return {
    name: streamName(spec.name),
    subjects: [pipelineSubjects(spec.name)],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.New,
    max_bytes: spec.retention.maxBytes,
    max_age: nanos(spec.retention.maxAgeMs),
    duplicate_window: nanos(spec.retention.duplicateWindowMs),
    num_replicas: spec.replicas,
  }
}

export async function getStream(jsm: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(name)
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return undefined
    throw err
  }
}

/** Creates the pipeline's stream, or updates its limits when the file changed them. */
export async function ensureStream(jsm: JetStreamManager, spec: PipelineSpec): Promise<StreamInfo> {
  const cfg = streamConfig(spec)
  const info = await getStream(jsm, cfg.name)
  if (!info) return jsm.streams.add(cfg)
  const c = info.config
  if (c.max_bytes !== cfg.max_bytes || c.max_age !== cfg.max_age || c.duplicate_window !== cfg.duplicate_window) {
    return jsm.streams.update(cfg.name, { ...c, max_bytes: cfg.max_bytes, max_age: cfg.max_age, duplicate_window: cfg.duplicate_window })
  }
  return info
}
