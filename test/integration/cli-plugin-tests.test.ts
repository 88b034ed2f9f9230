/**
 * `tributary test` and `tributary plugins test` through the compiled CLI: a passing run exits 0,
 * a failing one exits 1 with a readable diff (or the report as JSON on stdout with --json).
 * No server is started: both run without NATS or ClickHouse.
 */
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertBuilt, runCli, type CliResult } from '../helpers/cli.js'
import { makeTempDir } from '../helpers/tmp.js'

let tmp: { dir: string; remove(): Promise<void> }
beforeAll(async () => {
  assertBuilt()
  tmp = await makeTempDir('cli-tests')
  await writeFile(
    path.join(tmp.dir, 'orders.yaml'),
    'name: orders\nsource: { use: file, config: { path: orders.ndjson } }\ntransforms:\n  - { use: filter, config: { where: "value > 100" } }\n  - { id: vat, use: map, config: { set: { gross: "value * 1.2" } } }\nsinks:\n  - { use: stdout }\n',
  )
})
afterAll(() => tmp.remove())

const cli = (...args: string[]): Promise<CliResult> => runCli([...args, '--home', path.join(tmp.dir, 'home')], { ...process.env, NATS_URL: '', TRIBUTARY_LOG_LEVEL: 'warn' })

async function tests(body: string): Promise<void> {
  await writeFile(path.join(tmp.dir, 'orders.test.yaml'), body)
}

describe('tributary test', () => {
  it('passes: exit 0, one line per test', async () => {
    await tests('tests:\n  - name: big orders get a gross price\n    input: [{ id: 1, value: 150 }, { id: 2, value: 50 }]\n    expect: [{ id: 1, value: 150, gross: 180 }]\n')
    const r = await cli('test', path.join(tmp.dir, 'orders.yaml'))
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toBe(`${path.join(tmp.dir, 'orders.test.yaml')} (pipeline orders): 1 test\n  ✓ big orders get a gross price\nPASS: 1 passed, 0 failed\n`)
  })

  it('fails: exit 1, the differing record and field, expected (-) against received (+)', async () => {
    await tests(
      'tests:\n  - name: gross price\n    input: [{ id: 1, value: 150 }, { id: 2, value: 250 }, { id: 3 }]\n    expect: [{ id: 1, value: 150, gross: 180 }, { id: 2, value: 250, gross: 299 }]\n    expectDlq: [{ stage: filter, reason: "value", record: { id: 3 } }]\n',
    )
    const r = await cli('test', path.join(tmp.dir, 'orders.test.yaml'))
    expect(r.code).toBe(1)
    expect(r.stdout).toBe(
      [
        `${path.join(tmp.dir, 'orders.test.yaml')} (pipeline orders): 1 test`,
        '  ✗ gross price',
        '      records leaving the transforms differ:',
        '        expected 2 records, received 2  (- expected, + received)',
        '          {"gross":180,"id":1,"value":150}',
        '        - {"gross":299,"id":2,"value":250}',
        '        + {"gross":300,"id":2,"value":250}',
        '              .gross: expected 299, received 300',
        'FAIL: 0 passed, 1 failed',
        '',
      ].join('\n'),
    )
    expect(r.stderr).toContain('Error: 1 of 1 pipeline tests failed')
  })

  it('--json: the report on stdout, with the actual outputs and DLQ entries, exit 1', async () => {
    const r = await cli('test', path.join(tmp.dir, 'orders.yaml'), '--json')
    expect(r.code).toBe(1)
    const rep = JSON.parse(r.stdout) as { ok: boolean; tests: { ok: boolean; actual: { dlq: unknown[] } }[] }
    expect(rep).toMatchObject({ ok: false, passed: 0, failed: 1 })
    expect(rep.tests[0]!.actual.dlq).toEqual([{ stage: 'filter', code: 'E_REJECTED', reason: expect.stringContaining('value'), record: { id: 3 } }])
  })
})

describe('tributary plugins test', () => {
  it('a built-in by name with a config passes; --json gives the report', async () => {
    const r = await cli('plugins', 'test', 'map', '--config', '{"set": {"x": "1"}}', '--json')
    expect(r.code, r.stderr).toBe(0)
    const rep = JSON.parse(r.stdout) as { ok: boolean; plugin: object; checks: { id: string; status: string }[] }
    expect(rep).toMatchObject({ ok: true, plugin: { name: 'map', kind: 'transform', builtin: true } })
    expect(rep.checks.map((c) => c.id)).toEqual(['manifest', 'load', 'engine', 'config', 'defaults', 'docs', 'open', 'process-one-per-input', 'outputs-json', 'reject-to-dlq', 'batch-split', 'close', 'handles'])
  })

  it('a broken plugin folder fails with exit 1 and says what to fix', async () => {
    const dir = path.join(tmp.dir, 'broken')
    await runCli(['plugins', 'new', 'broken', '--kind', 'transform', '--dir', dir], process.env)
    await writeFile(path.join(dir, 'dist', 'index.js'), "import { defineTransform } from 'tributary/plugin'\nexport default defineTransform({ open: () => ({ process: (rs) => rs.slice(1) }) })\n")
    const r = await cli('plugins', 'test', dir)
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('✗ process-one-per-input  process() returned 5 results for 6 records')
    expect(r.stdout).toContain('✗ reject-to-dlq          process() returned 3 results for 4 records')
    expect(r.stderr).toContain('Error: 2 of 13 conformance checks failed for plugin "broken"')
  })
})
