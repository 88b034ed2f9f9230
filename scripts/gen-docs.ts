/**
 * `npm run docs`: writes each built-in plugin's README from its manifest, and the pipeline file
 * reference from schemas/pipeline.schema.json, so docs and validation share one spec.
 * With --check, fails when a generated file is out of date (the unit suite runs the same check).
 */
import { readFileSync, readdirSync, writeFileSync, existsSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { renderPluginDocs } from '../core/plugins/docs.js'
import { renderPipelineReference } from '../core/pipeline/reference.js'
import type { PluginManifest } from '../core/plugins/types.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const check = process.argv.includes('--check')
let stale = 0

function emit(file: string, content: string): void {
  const current = existsSync(file) ? readFileSync(file, 'utf8') : ''
  if (current === content) return
  if (check) {
    process.stderr.write(`out of date: ${path.relative(root, file)}\n`)
    stale++
    return
  }
  mkdirSync(path.dirname(file), { recursive: true })
  writeFileSync(file, content)
  process.stderr.write(`wrote ${path.relative(root, file)}\n`)
}

for (const dir of readdirSync(path.join(root, 'plugins'))) {
  const mf = path.join(root, 'plugins', dir, 'plugin.json')
  if (!existsSync(mf)) continue
  emit(path.join(root, 'plugins', dir, 'README.md'), renderPluginDocs(JSON.parse(readFileSync(mf, 'utf8')) as PluginManifest))
}
emit(path.join(root, 'docs', 'pipeline-reference.md'), renderPipelineReference(JSON.parse(readFileSync(path.join(root, 'schemas', 'pipeline.schema.json'), 'utf8'))))
if (stale) {
  process.stderr.write('run `npm run docs` to regenerate\n')
  process.exit(1)
}
