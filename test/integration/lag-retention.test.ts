import { describe, expect, it } from 'vitest'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream'
import { nanos } from '@nats-io/nats-core'
import { natsForSuite } from '../helpers/nats-server.js'
import { waitFor } from '../helpers/cli.js'
import { createRuntimeMetrics } from '../../core/metrics/prometheus.js'
import { startMonitor, type Monitor } from '../../core/metrics/monitor.js'

const suite = natsForSuite()

describe('lag versus retention', () => {
  it('measures the oldest unacknowledged message against max_age and warns in the log from 80 %', async () => {
    const jsm = await jetstreamManager(suite.nc)
    await jsm.streams.add({ name: 'TRIB_LAG', subjects: ['trib.lag.>'], max_age: nanos(5000) })
    await jsm.consumers.add('TRIB_LAG', { durable_name: 'lag--sink', ack_policy: AckPolicy.Explicit, filter_subject: 'trib.lag.src' })
    const js = jetstream(suite.nc)
    await js.publish('trib.lag.other', '{}') // another subject: not this consumer's lag
    for (let i = 0; i < 3; i++) await js.publish('trib.lag.src', JSON.stringify({ i }))

    const lines: { msg: string; stage?: string; pending?: number }[] = []
    const logger = pino({ level: 'info', base: undefined }, new Writable({ write: (chunk: Buffer, _enc, cb) => (lines.push(JSON.parse(chunk.toString()) as never), cb()) }))
    const registry = new Registry()
    const metrics = createRuntimeMetrics(registry, 'lag', [{ id: 'sink', kind: 'sink', use: 'stdout', group: 'sink' }], { instance: 'test-1', version: '0.0.0' })
    let monitor: Monitor | undefined
    try {
      monitor = startMonitor({ pipeline: 'lag', jsm, targets: [{ stage: 'sink', consumer: 'lag--sink' }], gauges: metrics.gauges, logger, intervalMs: 200 })
      const warning = await waitFor('the retention warning', () => lines.find((l) => /lags \d+% of the stream's retention/.test(l.msg)), 20_000)
      expect(warning).toMatchObject({ stage: 'sink', pending: 3 })
      const probe = monitor.latest()!
      expect(probe.stream).toMatchObject({ maxAgeS: 5, dlq: 0 })
      expect(probe.consumers[0]).toMatchObject({ consumer: 'lag--sink', pending: 3, ackPending: 0 })
      expect(probe.consumers[0]!.retentionUsed).toBeGreaterThanOrEqual(0.8)
      const text = await registry.metrics()
      const used = Number(/tributary_consumer_retention_used_ratio\{[^}]*consumer="lag--sink"[^}]*\} (\S+)/.exec(text)?.[1])
      expect(used).toBeGreaterThanOrEqual(0.8)
      expect(text).toMatch(/tributary_consumer_pending_messages\{[^}]*consumer="lag--sink"[^}]*\} 3\n/)
      // Warned once, not at every poll.
      expect(lines.filter((l) => /retention/.test(l.msg))).toHaveLength(1)
    } finally {
      await monitor?.stop()
    }
  })
})
