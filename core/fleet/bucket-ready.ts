import { jetstreamManager, JetStreamApiError } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/nats-core'
import { TributaryError, errorMessage } from '../errors.js'
import { sleep } from '../runtime/backoff.js'

/**
 * Waits until a bucket's stream answers reads. On a cluster, a stream that was just created (by
 * this process or another) has no leader for a moment, and requests to it go unanswered until the
 * client's timeout (seen on 2.9: a read of a fresh R3 bucket timed out at 20 s). A probe read of a
 * key that does not exist is answered "no message" once a leader serves it.
 */
export async function waitUntilServing(nc: NatsConnection, stream: string, timeoutMs = 30_000): Promise<void> {
  const jsm = await jetstreamManager(nc, { timeout: 2000 })
  const end = Date.now() + timeoutMs
  for (let attempt = 0; ; attempt++) {
    try {
      await jsm.streams.getMessage(stream, { last_by_subj: `$KV.${stream.slice('KV_'.length)}._ready_probe` })
      return
    } catch (err) {
      if (err instanceof JetStreamApiError) return // answered (no such message): a leader serves the stream
      if (Date.now() > end) throw new TributaryError('E_NATS', `the JetStream stream ${stream} did not answer within ${timeoutMs} ms: ${errorMessage(err)}`, { hint: 'is the NATS cluster electing leaders, or missing a quorum? check `nats-server` logs' })
      await sleep(Math.min(1000, 100 * (attempt + 1)))
    }
  }
}
