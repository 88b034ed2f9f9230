import type { NatsConnection } from '@nats-io/nats-core'

/**
 * Replicas for a fleet's own buckets: 3 when the server is part of a cluster of at least three
 * (its INFO names a cluster and advertises the other servers), else 1. Pipelines choose their own
 * (`replicas` in the file).
 */
export function fleetReplicas(nc: NatsConnection): number {
  const info = nc.info
  if (!info?.cluster) return 1
  const servers = new Set(info.connect_urls ?? [])
  return servers.size >= 3 ? 3 : 1
}
