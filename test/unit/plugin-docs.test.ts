import { describe, expect, it } from 'vitest'
import { readFileSync, readdirSync, existsSync } from 'node:fs'
import path from 'node:path'
import { renderPluginDocs } from '../../core/plugins/docs.js'
import { renderPipelineReference } from '../../core/pipeline/reference.js'
import type { PluginManifest } from '../../core/plugins/types.js'
import { repoRoot } from '../helpers/cli.js'

const dirs = readdirSync(path.join(repoRoot, 'plugins')).filter((d) => existsSync(path.join(repoRoot, 'plugins', d, 'plugin.json')))

describe('generated docs are current (run `npm run docs` when this fails)', () => {
  it.each(dirs)('plugins/%s/README.md matches its manifest', (d) => {
    const manifest = JSON.parse(readFileSync(path.join(repoRoot, 'plugins', d, 'plugin.json'), 'utf8')) as PluginManifest
    const readme = readFileSync(path.join(repoRoot, 'plugins', d, 'README.md'), 'utf8')
    expect(readme).toBe(renderPluginDocs(manifest))
    for (const key of Object.keys((manifest.config.properties ?? {}) as object)) expect(readme).toContain(`\`${key}\``)
  })

  it('docs/pipeline-reference.md matches schemas/pipeline.schema.json', () => {
    const schema = JSON.parse(readFileSync(path.join(repoRoot, 'schemas', 'pipeline.schema.json'), 'utf8'))
    expect(readFileSync(path.join(repoRoot, 'docs', 'pipeline-reference.md'), 'utf8')).toBe(renderPipelineReference(schema))
  })
})
