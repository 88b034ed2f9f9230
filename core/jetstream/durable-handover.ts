import { AckPolicy, DeliverPolicy, JetStreamApiCodes, JetStreamApiError, type ConsumerConfig, type ConsumerInfo, type JetStreamManager } from '@nats-io/jetstream'
import { nanos } from '@nats-io/nats-core'
import { TributaryError } from '../errors.js'
import type { DurableSpec } from './consumer.js'

/** How long pull requests of a process that just went away may linger (fetch expiry plus margin). */
const LINGER_MS = 1500
const CHECKS = 3

const NOTE = /inputs through stream sequence (\d+) may have been processed/

/** The durable description that records `through` for redeliveredThrough. */
export function processedNote(through: number): string {
  return `tributary: inputs through stream sequence ${through} may have been processed before this durable was recreated`
}

/**
 * Inputs at or below this stream sequence may have been processed by the durable's previous
 * incarnation: deliveries of them count as redelivered (a sink checks what it already wrote).
 */
export function redeliveredThrough(info: ConsumerInfo | undefined): number {
  const m = NOTE.exec(info?.config.description ?? '')
  return m ? Number(m[1]) : 0
}

/**
 * Recreates a group's durable to start right after its ack floor, under `policy`. Needed when
 * - the ack policy changes (a pipeline that ran with `run` deployed to a fleet, or the reverse):
 *   nats-server 2.9 cannot change it in place;
 * - a new owner takes over an ack-policy-all durable that still has inputs pending from the last
 *   one (a killed run): they come back only after ack_wait, and an ack of anything later would
 *   settle them unseen (FACTS), so delivery must start again at the first unsettled input.
 * What the old durable delivered past its floor may have been processed: the new durable's
 * description records that sequence, and those inputs count as redelivered (a sink checks what
 * it already wrote). Refused while other processes still pull from the old durable: recreating
 * it under them would let two processes write the same inputs.
 */
export async function handOverDurable(jsm: JetStreamManager, d: DurableSpec, existing: ConsumerInfo, policy: AckPolicy): Promise<ConsumerInfo> {
  let info = existing
  for (let check = 1; info.num_waiting > 0; check++) {
    if (check >= CHECKS) {
      throw new TributaryError('E_DURABLE_IN_USE', `consumer ${d.name} must be recreated (ack policy "${policy}", after its ack floor) but other processes are still reading it (${info.num_waiting} pull requests waiting)`, {
        hint: 'a pipeline runs either in one `tributary run` or in a fleet: stop the other (`tributary pipelines stop NAME`, or end the other run) and start this again',
      })
    }
    await new Promise((r) => setTimeout(r, LINGER_MS))
    const again = await infoOrUndefined(jsm, d)
    if (!again) break
    info = again
  }
  if (existing.config.ack_policy !== policy) {
    // Several workers may start on one switched pipeline: the first one's durable is kept.
    const fresh = await infoOrUndefined(jsm, d)
    if (fresh?.config.ack_policy === policy) return fresh
  }
  // A durable that acked nothing yet reports a floor of 0: it still starts where it was created to.
  const started = info.config.deliver_policy === DeliverPolicy.StartSequence ? (info.config.opt_start_seq ?? 1) - 1 : 0
  const after = Math.max(info.ack_floor.stream_seq, started)
  const through = Math.max(info.delivered.stream_seq, redeliveredThrough(info))
  await jsm.consumers.delete(d.stream, d.name).catch((err: unknown) => {
    if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound)) throw err
  })
  const cfg: Partial<ConsumerConfig> = {
    durable_name: d.name,
    filter_subject: d.filterSubject,
    ack_policy: policy,
    ...(after > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: after + 1 } : { deliver_policy: DeliverPolicy.All }),
    max_ack_pending: d.maxAckPending,
    ack_wait: nanos(d.ackWaitMs),
    max_deliver: d.maxDeliver,
    max_batch: 0,
    ...(through > after ? { description: processedNote(through) } : {}),
  }
  return jsm.consumers.add(d.stream, cfg)
}

async function infoOrUndefined(jsm: JetStreamManager, d: DurableSpec): Promise<ConsumerInfo | undefined> {
  try {
    return await jsm.consumers.info(d.stream, d.name)
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound) return undefined
    throw err
  }
}
