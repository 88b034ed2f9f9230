/**
 * JetStream API timeout for the fleet's own buckets. Creating an R3 bucket on a cluster that has
 * just started (or is electing a leader, FACTS: 4-9 s on 2.9) takes longer than the client's
 * default 5 s; the requests are idempotent, so waiting longer is safe.
 */
export const FLEET_API_TIMEOUT_MS = 20_000
