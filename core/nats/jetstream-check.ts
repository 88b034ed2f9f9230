import { jetstreamManager, JetStreamApiCodes, JetStreamApiError, type JetStreamAccountStats } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/nats-core'
import { TributaryError } from '../errors.js'

/**
 * Fails early, with the fix, when the server (or the account) has no JetStream: everything in
 * Tributary's data path needs it. Returns the account's limits and usage.
 */
export async function ensureJetStream(nc: NatsConnection): Promise<JetStreamAccountStats> {
  try {
    const jsm = await jetstreamManager(nc, { checkAPI: false })
    return await jsm.getAccountInfo()
  } catch (err) {
    const where = nc.getServer()
    // The client's JetStreamNotEnabled class is not exported from the package root; its name is stable.
    const notEnabled = (err as Error).name === 'JetStreamNotEnabled' || (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.JetStreamNotEnabledForAccount)
    if (notEnabled) {
      throw new TributaryError('E_NATS', `JetStream is not enabled on the NATS server at ${where}`, {
        hint: 'start nats-server with -js (or add `jetstream {}` to its config, and enable it for the account you connect as)',
        cause: err,
      })
    }
    throw new TributaryError('E_NATS', `cannot reach JetStream on the NATS server at ${where}: ${(err as Error).message}`, {
      hint: 'check that the server runs with -js and that this user may use the $JS.API subjects',
      cause: err,
    })
  }
}
