/** The package files around the code: package.json, tsconfig, test, README, npm and git settings. */
import type { PluginKind } from '../../plugin-api.js'
import type { PluginManifest } from '../types.js'
import { renderPluginDocs } from '../docs.js'

export interface PackageFacts {
  name: string
  kind: PluginKind
  manifest: PluginManifest
  /** Root of the running Tributary install: the devDependency `tributary` links to it. */
  tributaryRoot: string
}

export function packageJson(f: PackageFacts): string {
  const pkg = {
    name: f.name,
    version: f.manifest.version,
    description: f.manifest.description,
    type: 'module',
    main: f.manifest.entry,
    // What `npm pack` ships: the built code and the manifest; Tributary loads nothing else.
    files: ['dist', 'plugin.json', 'README.md'],
    keywords: ['tributary-plugin', `tributary-${f.kind}`],
    scripts: {
      build: 'tsc -p tsconfig.json',
      test: 'npm run build && node --test test/',
    },
    // `tributary` is not on the public registry (the name there is another package): the dev
    // dependency links this Tributary install, for its types and its test kit. It is never a
    // dependency or a peer dependency: `plugins install` provides it to installed plugins.
    devDependencies: {
      '@types/node': '^20.19.0',
      tributary: `file:${f.tributaryRoot}`,
      typescript: '^5.9.3',
    },
  }
  return `${JSON.stringify(pkg, null, 2)}\n`
}

export const TSCONFIG = `${JSON.stringify(
  {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      lib: ['ES2023'],
      types: ['node'],
      strict: true,
      skipLibCheck: true,
      rootDir: 'src',
      outDir: 'dist',
    },
    include: ['src'],
  },
  null,
  2,
)}\n`

// A `file:` folder dependency stays a link even where the user's npm config says install-links.
export const NPMRC = 'install-links=false\n'
export const GITIGNORE = 'node_modules/\n*.tgz\n'

export function testFile(f: PackageFacts): string {
  const extra =
    f.kind === 'transform'
      ? `
test('passes records through when not configured', async () => {
  const records = [{ id: 1, value: 150 }, { id: 2, value: 50 }]
  const { outputs, dlq } = await runTransform(dir, records)
  assert.deepEqual(outputs, records)
  assert.deepEqual(dlq, [])
})

test('rejects a record without a required field (dead-letter queue)', async () => {
  const { outputs, dlq } = await runTransform(dir, [{ id: 1 }, { value: 2 }], { config: { required: ['id'] } })
  assert.deepEqual(outputs, [{ id: 1 }])
  assert.deepEqual(dlq, [{ index: 1, reason: 'missing field(s): id' }])
})
`
      : ''
  return `// Run with \`npm test\`: builds src/ into dist/, then runs these tests on the built plugin.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { formatConformanceReport, runConformance${f.kind === 'transform' ? ', runTransform' : ''} } from 'tributary/testing'

const dir = fileURLToPath(new URL('..', import.meta.url))

// The standard suite every Tributary plugin passes (also: \`tributary plugins test .\`).
test('passes the Tributary conformance suite', async () => {
  const report = await runConformance({ dir })
  assert.ok(report.ok, formatConformanceReport(report))
})
${extra}`
}

export function readme(f: PackageFacts): string {
  const short = f.name.replace(/^@[^/]+\//, '')
  const stage = f.kind === 'source' ? 'source' : f.kind === 'transform' ? 'transforms:\n  - ' : 'sinks:\n  - '
  return `# ${f.name}

${f.manifest.description}

## Develop

\`\`\`sh
npm install                  # TypeScript, and a link to Tributary (types, test kit)
npm test                     # build src/ → dist/, then run test/ (conformance suite included)
tributary plugins test .     # the conformance suite alone, as a readable report
\`\`\`

The code is \`src/index.ts\`; \`plugin.json\` is its manifest: name, kind, \`entry\` (the built
file), \`engine\` (Tributary versions it works with), the JSON Schema of its \`config\` (defaults
and descriptions are its docs) and the \`permissions\` it needs.

## Install and use

\`\`\`sh
npm test && npm pack                               # → ${short}-${f.manifest.version}.tgz
tributary plugins install ./${short}-${f.manifest.version}.tgz  # or: tributary plugins install .
\`\`\`

\`\`\`yaml
${stage}{ use: ${f.name} }
\`\`\`

${renderPluginDocs(f.manifest).replace(/^# .*\n\n.*\n\n/, '').replace(/\nVersion .*\n$/, '\n')}`
}
