import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { startNatsServer } from '../helpers/nats-server.js'
import { makeTempDir } from '../helpers/tmp.js'
import { assertBuilt, repoRoot, runCli } from '../helpers/cli.js'

// The example as a user runs it: the compiled CLI, `run` then `query`.
let nats: Awaited<ReturnType<typeof startNatsServer>>
let tmp: Awaited<ReturnType<typeof makeTempDir>>
let env: NodeJS.ProcessEnv

beforeAll(async () => {
  assertBuilt()
  ;[nats, tmp] = await Promise.all([startNatsServer(), makeTempDir('wordcount')])
  env = { ...process.env, NATS_URL: nats.url, TRIBUTARY_HOME: path.join(tmp.dir, 'home') }
})

afterAll(async () => {
  await nats?.stop()
  await tmp?.remove()
})

/** The count, computed here independently: lower-case, split on runs of non-letters/digits. */
function expectedCounts(): Map<string, number> {
  const text = readFileSync(path.join(repoRoot, 'examples', 'wordcount', 'input.txt'), 'utf8')
  const counts = new Map<string, number>()
  for (const w of text.toLowerCase().split(/[^\p{L}\p{N}]+/u)) if (w) counts.set(w, (counts.get(w) ?? 0) + 1)
  return counts
}

async function query<T>(sql: string): Promise<T[]> {
  const r = await runCli(['query', sql, '--json'], env)
  expect(r.code, r.stderr).toBe(0)
  return JSON.parse(r.stdout) as T[]
}

describe('examples/wordcount', () => {
  it('run, then SELECT word, sum(n) … GROUP BY word equals an independent count of input.txt; a second run adds nothing', async () => {
    const file = path.join(repoRoot, 'examples', 'wordcount', 'pipeline.yaml')
    const first = await runCli(['run', file], env, 180_000)
    expect(first.code, first.stderr).toBe(0)
    expect(first.stderr).toContain('input drained')

    const expected = expectedCounts()
    const total = [...expected.values()].reduce((a, b) => a + b, 0)
    expect(total).toBeGreaterThan(800) // the opening chapter of Pride and Prejudice
    const rows = await query<{ word: string; n: number }>('SELECT word, sum(n) AS n FROM wordcount GROUP BY word')
    expect(new Map(rows.map((r) => [r.word, Number(r.n)]))).toEqual(expected)
    // One row per word and window: nothing was written twice.
    const [shape] = await query<{ rows: number; keys: number }>('SELECT count() AS rows, uniqExact(word, window_start) AS keys FROM wordcount')
    expect(Number(shape!.rows)).toBe(Number(shape!.keys))

    const again = await runCli(['run', file], env, 180_000)
    expect(again.code, again.stderr).toBe(0)
    const [sum] = await query<{ n: number }>('SELECT sum(n) AS n FROM wordcount')
    expect(Number(sum!.n)).toBe(total)
  })
})
