import { describe, expect, it } from 'vitest'
import { Registry } from 'prom-client'
import { AckClock } from '../../core/metrics/ack-clock.js'
import { noMeter } from '../../core/metrics/noop.js'
import { createRuntimeMetrics } from '../../core/metrics/prometheus.js'
import { StatusTracker } from '../../core/status/tracker.js'
import { stageRows } from '../../core/status/format.js'
import { instanceId } from '../../core/status/heartbeat.js'
import type { StageMeter } from '../../core/metrics/types.js'

describe('AckClock', () => {
  it('reports each batch once it is wholly acknowledged, with its own input count, whatever the ack steps', () => {
    const acked: number[] = []
    const meter: StageMeter = { ...noMeter, acked: (n) => void acked.push(n) }
    const clock = new AckClock(meter)
    clock.arrived(10)
    clock.arrived(10)
    clock.arrived(5)
    clock.acked(15) // batch 1 done, batch 2 half
    expect(acked).toEqual([10])
    clock.acked(5) // batch 2 done
    clock.acked(5) // batch 3 done
    expect(acked).toEqual([10, 10, 5])
    clock.arrived(3)
    clock.acked(3)
    expect(acked).toEqual([10, 10, 5, 3])
  })
})

describe('runtime metrics', () => {
  it('keeps totals per stage and the latest error; unknown stages report nowhere', async () => {
    const registry = new Registry()
    const m = createRuntimeMetrics(registry, 'p', [{ id: 'src', kind: 'source', use: 'generate' }, { id: 'f', kind: 'transform', use: 'filter', group: 'f' }], { instance: 'h-1', version: '0.1.0' })
    m.stage('src').batch(100, 0, 0.01)
    m.stage('src').count(0, 98)
    m.stage('src').dead(2)
    m.stage('f').batch(98, 40, 0.002)
    m.stage('f').error(new Error('boom'))
    m.stage('nope').batch(1, 1, 0)
    const t = m.totals()
    expect(t.map((s) => [s.id, s.in, s.out, s.dead, s.errors])).toEqual([['src', 100, 98, 2, 0], ['f', 98, 40, 0, 1]])
    expect(t[1]!.lastError?.message).toBe('boom')
    const text = await registry.metrics()
    expect(text).toContain('tributary_stage_records_out_total{pipeline="p",stage="f"} 40')
    expect(text).toContain('tributary_stage_batch_size_count{pipeline="p",stage="src"} 1')
  })
})

describe('StatusTracker', () => {
  it('derives rates from the change of the totals since the previous document', () => {
    const tr = new StatusTracker({ pipeline: 'p', instance: 'h-1', host: 'h', pid: 1, tributaryVersion: '0.1.0', startedAt: '2026-01-01T00:00:00.000Z', intervalMs: 2000 })
    const stage = { id: 's', kind: 'source' as const, use: 'generate', in: 0, out: 0, dead: 0, errors: 0, acked: 0 }
    const first = tr.doc('running', [stage], [], 1_000_000)
    expect(first.stages[0]).toMatchObject({ inPerS: 0, outPerS: 0 })
    const second = tr.doc('running', [{ ...stage, in: 4000, out: 3000 }], [], 1_002_000)
    expect(second.stages[0]).toMatchObject({ in: 4000, inPerS: 2000, outPerS: 1500 })
    tr.failed('stream gone')
    expect(tr.doc('failed', [], [], 1_004_000).lastError?.message).toBe('stream gone')
  })

  it('names instances with characters a KV key allows', () => {
    expect(instanceId('host.example.com', 42)).toBe('host_example_com-42')
  })
})

describe('status rows', () => {
  it('puts a consuming group\'s lag on its first stage and lists durables no runtime reported', () => {
    const rows = stageRows({
      pipeline: 'p',
      mode: 'run',
      state: 'stopped',
      runtimes: [],
      stages: [
        { id: 'src', kind: 'source', use: 'file', in: 5, out: 5, dead: 0, errors: 0, acked: 5, inPerS: 0, outPerS: 0 },
        { id: 'f', kind: 'transform', use: 'filter', group: 'f', in: 5, out: 2, dead: 0, errors: 0, acked: 5, inPerS: 0, outPerS: 0 },
      ],
      consumers: [
        { stage: 'f', consumer: 'p--f', exists: true, pending: 3, ackPending: 1, redelivered: 0, oldestUnackedAgeS: 12.5, retentionUsed: 0 },
        { stage: 'replay-2', consumer: 'p--replay-2', exists: true, pending: 7, ackPending: 0, redelivered: 0, oldestUnackedAgeS: 0, retentionUsed: 0 },
      ],
    })
    expect(rows.map((r) => [r.stage, r.pending, r['ack pending'], r['oldest unacked']])).toEqual([
      ['src', '', '', ''],
      ['f', 3, 1, '12.5s'],
      ['replay-2', 7, 0, '-'],
    ])
  })
})
