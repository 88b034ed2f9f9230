import { TributaryError } from '../errors.js'

/**
 * A fleet's control state lives in three KV buckets of its own, apart from any home directory:
 * deployments (desired state and every revision), worker heartbeats (max_age: a dead worker's
 * entry disappears) and leases (max_age is the lease TTL).
 */
export const DEFAULT_FLEET = 'default'
const FLEET_NAME = /^[a-z][a-z0-9_-]{0,31}$/

export function checkFleetName(fleet: string): string {
  if (!FLEET_NAME.test(fleet)) {
    throw new TributaryError('E_USAGE', `"${fleet}" is not a valid fleet name`, { hint: 'use lowercase letters, digits, - and _, starting with a letter, at most 32 characters' })
  }
  return fleet
}

export function deploymentsBucket(fleet: string): string {
  return `trib-fleet-${fleet}`
}

export function workersBucket(fleet: string): string {
  return `trib-fleet-${fleet}-workers`
}

export function leasesBucket(fleet: string): string {
  return `trib-fleet-${fleet}-leases`
}

/** `pipelines.<name>`: what the fleet should run (revision, running or stopped). */
export function pipelineKey(name: string): string {
  return `pipelines.${name}`
}

/** `revisions.<name>.<n>`: a deployed file, kept for history and roll-back. */
export function revisionKey(name: string, revision: number): string {
  return `revisions.${name}.${revision}`
}

/** The parts of a pipeline that one worker at a time runs. */
export type LeasedPart = 'source' | 'stateful'

export function leaseKey(pipeline: string, part: LeasedPart): string {
  return `${pipeline}.${part}`
}

/** One key partition of a stateful stage: a unit of its own, spread over the workers. */
export function partitionLeaseKey(pipeline: string, stageId: string, index: number): string {
  return `${pipeline}.stateful.${stageId}.p${index}`
}

/** The part a lease key names, as `pipelines status` shows it: `source`, `stateful`, `stateful.<stage>.p<i>`. */
export function leasePart(pipeline: string, key: string): string {
  return key.startsWith(`${pipeline}.`) ? key.slice(pipeline.length + 1) : key
}
