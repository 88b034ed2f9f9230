import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { builtinPluginsDir, createRegistry } from '../../core/plugins/registry.js'
import { runPipelineTests } from '../../core/pipeline-test/run.js'
import { formatPipelineTestReport } from '../../core/pipeline-test/format.js'
import { diffRecords } from '../../core/pipeline-test/diff.js'
import { TributaryError, ValidationError } from '../../core/errors.js'
import type { PluginRegistry } from '../../core/plugins/types.js'
import { makeTempDir } from '../helpers/tmp.js'

let tmp: { dir: string; remove(): Promise<void> }
let registry: PluginRegistry
beforeAll(async () => {
  tmp = await makeTempDir('pipeline-test')
  registry = await createRegistry({ builtinDir: builtinPluginsDir() })
  await writeFile(
    path.join(tmp.dir, 'orders.yaml'),
    `name: orders
source: { use: generate, config: { template: { id: "i" } } }
transforms:
  - { use: filter, config: { where: "value > \${env:MIN}" } }
  - { id: double, use: map, config: { set: { twice: "value * 2" }, remove: [note] } }
sinks:
  - { id: big, use: stdout, where: "twice >= 1000" }
  - { id: all, use: stdout }
`,
  )
})
afterAll(() => tmp.remove())

async function write(name: string, text: string): Promise<string> {
  const file = path.join(tmp.dir, name)
  await mkdir(path.dirname(file), { recursive: true })
  await writeFile(file, text)
  return file
}

describe('tributary test', () => {
  it('passes: outputs, per-sink routing and DLQ entries as expected; inputs from a file; env for ${env:...}', async () => {
    await write('fixtures/in.ndjson', '{"id":1,"value":150,"note":"x"}\n{"id":2,"value":50}\n{"id":3}\n{"id":4,"value":600}\n')
    await write(
      'orders.test.yaml',
      `env: { MIN: "100" }
tests:
  - name: keeps big orders and doubles them
    input: { file: fixtures/in.ndjson }
    expect:
      - { id: 1, value: 150, twice: 300 }
      - { id: 4, value: 600, twice: 1200 }
    expectSinks:
      big: [{ id: 4, value: 600, twice: 1200 }]
    expectDlq:
      - { stage: filter, reason: "value", record: { id: 3 } }
  - name: nothing passes
    input: [{ id: 9, value: 1 }]
    expect: []
`,
    )
    const rep = await runPipelineTests(path.join(tmp.dir, 'orders.yaml'), registry, { env: {} })
    expect(rep.ok, formatPipelineTestReport(rep)).toBe(true)
    expect(rep).toMatchObject({ pipeline: 'orders', passed: 2, failed: 0 })
    expect(rep.tests[0]!.actual!.dlq).toEqual([{ stage: 'filter', code: 'E_REJECTED', reason: expect.stringContaining('value'), record: { id: 3 } }])
    expect(rep.tests[0]!.actual!.sinks.all).toHaveLength(2)
  })

  it('fails with a readable diff down to the field, and reports an unexpected DLQ entry', async () => {
    const file = await write(
      'failing.test.yaml',
      `pipeline: orders.yaml
env: { MIN: "100" }
tests:
  - name: wrong expectation
    input: [{ id: 1, value: 150 }, { id: 2, value: 250 }, { id: 3 }]
    expect:
      - { id: 1, value: 150, twice: 300 }
      - { id: 2, value: 250, twice: 501 }
`,
    )
    const rep = await runPipelineTests(file, registry, { env: {} })
    expect(rep.ok).toBe(false)
    const text = formatPipelineTestReport(rep)
    expect(text).toContain('✗ wrong expectation')
    expect(text).toContain(
      [
        '      records leaving the transforms differ:',
        '        expected 2 records, received 2  (- expected, + received)',
        '          {"id":1,"twice":300,"value":150}',
        '        - {"id":2,"twice":501,"value":250}',
        '        + {"id":2,"twice":500,"value":250}',
        '              .twice: expected 501, received 500',
      ].join('\n'),
    )
    expect(text).toMatch(/dead-letter queue differ:\n {8}expected 0 records, received 1 {2}\(- expected, \+ received\)\n {8}\+ \{"code":"E_REJECTED","reason":"[^"]*value[^"]*","record":\{"id":3\},"stage":"filter"\}/)
    expect(text).toMatch(/FAIL: 0 passed, 1 failed$/)
  })

  it('a test file with an unknown key is refused with its line; a pipeline without tests says where to write them', async () => {
    const file = await write('bad.test.yaml', 'pipeline: orders.yaml\ntests:\n  - name: x\n    input: []\n    expected: []\n')
    const err = await runPipelineTests(file, registry).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ValidationError)
    expect((err as ValidationError).issues).toEqual([expect.objectContaining({ line: 5, path: 'tests[0].expected', message: 'unknown property "expected"', suggestion: 'expect' })])
    await write('lonely.yaml', 'name: lonely\nsource: { use: generate, config: { template: { id: "i" } } }\nsinks: [{ use: stdout }]\n')
    const err2 = (await runPipelineTests(path.join(tmp.dir, 'lonely.yaml'), registry).catch((e: unknown) => e)) as TributaryError
    expect(err2.message).toMatch(/no tests for .*lonely\.yaml: lonely\.test\.yaml does not exist/)
  })
})

describe('diffRecords', () => {
  it('equal lists (key order ignored) give no diff; a missing and an extra record are shown with context', () => {
    expect(diffRecords([{ a: 1, b: 2 }], [{ b: 2, a: 1 }])).toBeUndefined()
    expect(diffRecords([{ id: 1 }, { id: 2 }, { id: 3 }], [{ id: 1 }, { id: 3 }, { id: 4 }])).toBe(
      ['expected 3 records, received 3  (- expected, + received)', '  {"id":1}', '- {"id":2}', '  {"id":3}', '+ {"id":4}'].join('\n'),
    )
  })

  it('names missing and unexpected nested fields', () => {
    expect(diffRecords([{ id: 1, geo: { country: 'FR' } }], [{ id: 1, geo: { city: 'Paris' } }])).toBe(
      ['expected 1 record, received 1  (- expected, + received)', '- {"geo":{"country":"FR"},"id":1}', '+ {"geo":{"city":"Paris"},"id":1}', '      .geo.city: not expected (received "Paris")', '      .geo.country: missing (expected "FR")'].join('\n'),
    )
  })
})
