import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { TEMPLATES } from '../../core/plugins/scaffold/templates.js'
import { validateManifest } from '../../core/manifest/validate.js'
import { compileSchema } from '../../core/schema/ajv.js'

/** Code without whitespace and semicolons: tsc's printer reformats, the code stays the same. */
const squeeze = (s: string): string => s.replace(/[\s;]/g, '')

describe('plugins new templates', () => {
  it.each(Object.keys(TEMPLATES))('%s: the JS written to dist/ is what tsc makes of src/index.ts', (kind) => {
    const t = TEMPLATES[kind as keyof typeof TEMPLATES]
    const { outputText } = ts.transpileModule(t.ts, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } })
    expect(squeeze(outputText)).toBe(squeeze(t.js))
  })

  it.each(Object.keys(TEMPLATES))('%s: its manifest is valid and an empty config is valid (defaults only)', (kind) => {
    const t = TEMPLATES[kind as keyof typeof TEMPLATES]
    validateManifest({ name: 'x', version: '0.1.0', kind, entry: 'dist/index.js', description: t.description, engine: '^0.1.0', config: t.config }, 'plugin.json')
    const config = {}
    expect(compileSchema(t.config)(config)).toBe(true)
    expect(Object.keys(config).length).toBeGreaterThan(0)
  })
})
