import { describe, expect, it } from 'vitest'
import type { JsMsg } from '@nats-io/jetstream'
import type { BatchFetcher } from '../../core/jetstream/consumer.js'
import { boundedFetcher } from '../../core/replay/bounded-fetcher.js'

/** A delivered message as nats.js keeps it: only its raw reply subject is read here. */
function msg(consumerSeq: number, streamSeq: number, delivered = 1): JsMsg {
  const reply = new TextEncoder().encode(`$JS.ACK.S.c.${delivered}.${streamSeq}.${consumerSeq}.1.0`)
  return { msg: { _msg: { reply } }, headers: undefined, ack() {} } as unknown as JsMsg
}

function scripted(batches: JsMsg[][]): BatchFetcher & { stopped: boolean } {
  return {
    stopped: false,
    async next() {
      return this.stopped ? undefined : (batches.shift() ?? [])
    },
    stop() {
      this.stopped = true
    },
  }
}

async function drain(f: BatchFetcher): Promise<number[]> {
  const seqs: number[] = []
  for (let b = await f.next(); b !== undefined; b = await f.next()) {
    for (const m of b) seqs.push(Number(new TextDecoder().decode((m as unknown as { msg: { _msg: { reply: Uint8Array } } }).msg._msg.reply).split('.')[5]))
  }
  return seqs
}

describe('a replay\'s bounded fetcher', () => {
  // Deliveries 1, 2, then 4, 5: delivery 3 (stream sequence 3) was lost with a connection.
  const lossy = (): BatchFetcher => scripted([[msg(1, 1), msg(2, 2)], [msg(4, 4), msg(5, 5)]])

  it('checks deliveries arrive in order: a lost one makes it recreate the durable after the last input taken and read on', async () => {
    const asked: number[] = []
    const f = boundedFetcher(lossy(), {
      startSeq: 1,
      endSeq: 5,
      settled: async (endSeen) => endSeen,
      reposition: async (after) => {
        asked.push(after)
        // The recreated durable delivers again from there, its consumer sequences from 1.
        return scripted([[msg(1, 3), msg(2, 4), msg(3, 5)]])
      },
    })
    expect(await drain(f)).toEqual([1, 2, 3, 4, 5])
    expect(asked).toEqual([2])
    expect(f.counts.read).toBe(5)
    expect(f.caughtUp).toBe(true)
  })

  it('without the check the lost delivery is simply missing (what the check prevents)', async () => {
    const f = boundedFetcher(lossy(), { startSeq: 1, endSeq: 5, settled: async (endSeen) => endSeen })
    expect(await drain(f)).toEqual([1, 2, 4, 5])
  })

  it('a repeated delivery (delivered twice) is a break too', async () => {
    const asked: number[] = []
    const f = boundedFetcher(scripted([[msg(1, 1)], [msg(2, 1, 2)], [msg(3, 2)]]), {
      startSeq: 1,
      endSeq: 2,
      settled: async (endSeen) => endSeen,
      reposition: async (after) => {
        asked.push(after)
        return scripted([[msg(1, 2)]])
      },
    })
    expect(await drain(f)).toEqual([1, 2])
    expect(asked).toEqual([1])
  })
})
