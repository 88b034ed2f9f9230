// Run with `npm test`: builds src/ into dist/, then runs these tests on the built plugin.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { formatConformanceReport, runConformance, runTransform } from 'tributary/testing'

const dir = fileURLToPath(new URL('..', import.meta.url))

test('passes the Tributary conformance suite', async () => {
  const report = await runConformance({ dir })
  assert.ok(report.ok, formatConformanceReport(report))
})

test('adds country and city; keeps records it cannot place; rejects what is not an address', async () => {
  const run = await runTransform(dir, [{ ip: '81.2.69.142' }, { ip: '10.0.0.1' }, { id: 3 }, { ip: 'localhost' }])
  assert.deepEqual(run.outputs, [{ ip: '81.2.69.142', geo: { country: 'GB', city: 'London' } }, { ip: '10.0.0.1' }, { id: 3 }])
  assert.deepEqual(run.dlq, [{ index: 3, reason: 'ip is not an IPv4 address: "localhost"' }])
})

test('nested field, another target, onMissing: reject', async () => {
  const config = { field: 'client.addr', target: 'place', onMissing: 'reject' }
  const run = await runTransform(dir, [{ client: { addr: '175.16.199.7' } }, { client: {} }], { config })
  assert.deepEqual(run.outputs, [{ client: { addr: '175.16.199.7' }, place: { country: 'CN', city: 'Changchun' } }])
  assert.deepEqual(run.dlq, [{ index: 1, reason: 'no client.addr field' }])
})
