import type { JsonObject, JsonValue } from '../plugin-api.js'
import type { PluginManifest } from './types.js'

interface Row {
  path: string
  type: string
  required: boolean
  def?: JsonValue
  description: string
}

function typeOf(s: JsonObject): string {
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(' \\| ')
  const t = s.type
  const base = Array.isArray(t) ? t.join(' \\| ') : typeof t === 'string' ? t : 'any'
  if (base === 'array' && s.items && typeof s.items === 'object' && !Array.isArray(s.items)) return `${typeOf(s.items as JsonObject)}[]`
  if (typeof s.format === 'string') return `${base} (${s.format})`
  return base
}

function rows(schema: JsonObject, prefix: string, out: Row[]): void {
  const props = (schema.properties ?? {}) as Record<string, JsonObject>
  const required = new Set((schema.required ?? []) as string[])
  for (const [name, p] of Object.entries(props)) {
    const path = prefix ? `${prefix}.${name}` : name
    out.push({ path, type: typeOf(p), required: required.has(name), def: p.default, description: String(p.description ?? '') })
    if (p.type === 'object' && p.properties) rows(p, path, out)
  }
}

/** A plugin's docs, generated from its manifest: the config schema is the single spec (STYLE). */
export function renderPluginDocs(m: PluginManifest): string {
  const out: Row[] = []
  rows(m.config, '', out)
  const esc = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ')
  const lines = [
    `# ${m.name} (${m.kind})`,
    '',
    m.description,
    '',
    ...partitionNote(m),
    '## Configuration',
    '',
  ]
  if (out.length === 0) lines.push('This plugin takes no configuration.')
  else {
    lines.push('| option | type | required | default | description |', '| --- | --- | --- | --- | --- |')
    for (const r of out) {
      lines.push(`| \`${r.path}\` | ${r.type} | ${r.required ? 'yes' : ''} | ${r.def === undefined ? '' : `\`${esc(JSON.stringify(r.def))}\``} | ${esc(r.description)} |`)
    }
  }
  lines.push('', `Version ${m.version}, for Tributary ${m.engine}. Generated from \`plugin.json\` by \`npm run docs\`; edit the manifest, not this table.`, '')
  return lines.join('\n')
}

/** A stateful transform that declares its key can be split into key partitions (docs/state.md). */
function partitionNote(m: PluginManifest): string[] {
  if (m.partitionBy === undefined) return []
  const fields = (Array.isArray(m.partitionBy) ? m.partitionBy : [m.partitionBy]).map((f) => `\`${f}\``)
  return [`A stage can be split into key partitions (\`partitions: N\` beside \`use\`): records are spread by the key in ${fields.join(' (or ')}${fields.length > 1 ? ', when set and the same)' : ''}.`, '']
}
