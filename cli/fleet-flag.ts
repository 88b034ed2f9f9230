import { Flags } from '@oclif/core'
import { DEFAULT_FLEET } from '../core/fleet/names.js'

/** `--fleet`: which fleet's buckets a command works on; fleets are independent of the home. */
export const fleetFlag = Flags.string({
  description: 'Fleet name: its deployments, workers and leases live in the KV buckets trib-fleet-<fleet>*',
  default: DEFAULT_FLEET,
  env: 'TRIBUTARY_FLEET',
})
