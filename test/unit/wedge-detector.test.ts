import { describe, expect, it } from 'vitest'
import type { ConsumerInfo } from '@nats-io/jetstream'
import { WedgeDetector, hasWorkForUs } from '../../core/runtime/wedge-detector.js'

/** The fields of a consumer info the detector reads. */
function info(o: { pending?: number; ackPending?: number; delivered?: number; ackFloor?: number; maxAckPending?: number }): ConsumerInfo {
  return {
    num_pending: o.pending ?? 0,
    num_ack_pending: o.ackPending ?? 0,
    delivered: { consumer_seq: o.delivered ?? 0, stream_seq: o.delivered ?? 0 },
    ack_floor: { consumer_seq: o.ackFloor ?? 0, stream_seq: o.ackFloor ?? 0 },
    config: { max_ack_pending: o.maxAckPending ?? 1000 },
  } as unknown as ConsumerInfo
}

function detector(answers: (ConsumerInfo | undefined)[], held = 0): { d: WedgeDetector; asked: () => number } {
  let n = 0
  const d = new WedgeDetector({ periodMs: 1000, info: async () => answers[Math.min(n++, answers.length - 1)], held: () => held }, 0)
  return { d, asked: () => n }
}

describe('hasWorkForUs', () => {
  it('pending messages with room under max_ack_pending, or deliveries this process does not hold', () => {
    expect(hasWorkForUs(info({ pending: 5, ackPending: 0 }), 0)).toBe(true)
    expect(hasWorkForUs(info({ pending: 5, ackPending: 1000, maxAckPending: 1000 }), 1000)).toBe(false) // we hold them all: backpressure
    expect(hasWorkForUs(info({ pending: 5, ackPending: 1000, maxAckPending: 1000 }), 400)).toBe(true) // 600 delivered elsewhere or lost
    expect(hasWorkForUs(info({ pending: 0, ackPending: 30 }), 30)).toBe(false)
    expect(hasWorkForUs(info({ pending: 0, ackPending: 30 }), 10)).toBe(true)
    expect(hasWorkForUs(info({ pending: 0, ackPending: 0 }), 0)).toBe(false)
    expect(hasWorkForUs(info({ pending: 3, ackPending: 5000, maxAckPending: -1 }), 5000)).toBe(true) // unlimited
  })
})

describe('WedgeDetector', () => {
  it('asks nothing before the quiet lasts 3 periods', async () => {
    const { d, asked } = detector([info({ pending: 10, delivered: 7 })])
    expect(d.due(2999)).toBe(false)
    expect(await d.check(2999)).toBe('waiting')
    expect(asked()).toBe(0)
    expect(d.due(3000)).toBe(true)
  })

  it('judges wedged when the durable had work for us and did not move over another quiet stretch', async () => {
    const { d, asked } = detector([info({ pending: 10, delivered: 7, ackFloor: 4 })])
    expect(await d.check(3000)).toBe('waiting') // first sample
    expect(d.due(5999)).toBe(false)
    expect(await d.check(6000)).toBe('wedged')
    expect(asked()).toBe(2)
  })

  it('is not wedged when the durable moved between samples (another process shares it) or has nothing for us', async () => {
    const moved = detector([info({ pending: 10, delivered: 7 }), info({ pending: 10, delivered: 9 }), info({ pending: 10, delivered: 9 })])
    expect(await moved.d.check(3000)).toBe('waiting')
    expect(await moved.d.check(6000)).toBe('waiting') // delivered 7 → 9: someone gets messages
    expect(await moved.d.check(9000)).toBe('wedged') // then nothing moved for a stretch

    const idle = detector([info({ pending: 0, ackPending: 12, delivered: 40 })], 12)
    expect(await idle.d.check(3000)).toBe('waiting')
    expect(await idle.d.check(6000)).toBe('waiting')
    expect(await idle.d.check(9000)).toBe('waiting')
  })

  it('decides nothing while the server does not answer', async () => {
    const { d } = detector([undefined])
    expect(await d.check(3000)).toBe('waiting')
    expect(await d.check(4000)).toBe('waiting')
    expect(await d.check(60_000)).toBe('waiting')
  })

  it('a delivery restarts the count; after a restart the quiet needed doubles, up to the cap', async () => {
    const { d } = detector([info({ pending: 10, delivered: 7 })])
    expect(await d.check(3000)).toBe('waiting')
    d.delivered(3500)
    expect(await d.check(6000)).toBe('waiting') // not due: quiet since 3500
    expect(await d.check(6500)).toBe('waiting') // a fresh first sample
    expect(await d.check(9500)).toBe('wedged')
    d.restarted(9500)
    expect(d.due(15_499)).toBe(false)
    expect(d.due(15_500)).toBe(true) // 6 s
    d.restarted(15_500)
    expect(d.due(27_500)).toBe(true) // 12 s
    for (let i = 0; i < 10; i++) d.restarted(100_000)
    expect(d.due(160_000)).toBe(true) // capped at 60 s
    expect(d.due(159_999)).toBe(false)
  })
})
