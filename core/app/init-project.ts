import { mkdir, writeFile, access } from 'node:fs/promises'
import path from 'node:path'
import { homePaths } from '../home/paths.js'

import { fileURLToPath } from 'node:url'

// The schema shipped with this install, so editors validate and complete the file offline.
const SCHEMA = fileURLToPath(new URL('../../../schemas/pipeline.schema.json', import.meta.url))

const PIPELINE = `# yaml-language-server: $schema=${SCHEMA}
# A first pipeline: read events.ndjson, keep the big ones, double them, store them in ClickHouse.
# Run it with \`tributary run pipeline.yaml\`, then \`tributary query 'SELECT * FROM events LIMIT 5'\`.
name: starter
source:
  use: file
  config: { path: events.ndjson }
transforms:
  - use: filter
    config: { where: "value > 100" }
  - use: map
    config: { set: { doubled: "value * 2" } }
sinks:
  - use: clickhouse
    config:
      table: events
      columns: { id: UInt64, name: String, value: Float64, doubled: Float64 }
      orderBy: [id]
`

function sampleEvents(n: number): string {
  const names = ['alpha', 'beta', 'gamma', 'delta']
  let out = ''
  for (let i = 1; i <= n; i++) out += `${JSON.stringify({ id: i, name: names[i % names.length], value: (i * 37) % 250 })}\n`
  return out
}

export interface InitResult {
  home: string
  created: string[]
  kept: string[]
}

/** `tributary init`: the home folder, plus a starter pipeline and input in `dir` unless present. */
export async function initProject(home: string, dir: string): Promise<InitResult> {
  const paths = homePaths(home)
  await mkdir(paths.root, { recursive: true })
  await mkdir(paths.plugins, { recursive: true })
  await mkdir(dir, { recursive: true })
  const files: [string, string][] = [
    [path.join(dir, 'pipeline.yaml'), PIPELINE],
    [path.join(dir, 'events.ndjson'), sampleEvents(100)],
  ]
  const created: string[] = []
  const kept: string[] = []
  for (const [file, content] of files) {
    const exists = await access(file).then(() => true, () => false)
    if (exists) kept.push(file)
    else {
      await writeFile(file, content)
      created.push(file)
    }
  }
  return { home: paths.root, created, kept }
}
