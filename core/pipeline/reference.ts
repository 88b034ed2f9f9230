import type { JsonObject } from '../plugin-api.js'

function resolveRef(root: JsonObject, s: JsonObject): JsonObject {
  const ref = s.$ref
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return s
  let cur: unknown = root
  for (const part of ref.slice(2).split('/')) cur = (cur as JsonObject)[part]
  return { ...(cur as JsonObject), ...Object.fromEntries(Object.entries(s).filter(([k]) => k !== '$ref')) }
}

function typeLabel(s: JsonObject): string {
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(' \\| ')
  if (Array.isArray(s.oneOf) || Array.isArray(s.anyOf)) return ((s.oneOf ?? s.anyOf) as JsonObject[]).map((x) => typeLabel(x)).join(' \\| ')
  const t = Array.isArray(s.type) ? s.type.join(' \\| ') : String(s.type ?? 'any')
  return s.format ? `${t} (${String(s.format)})` : t
}

/** The pipeline file reference, generated from its JSON Schema (the one spec for docs and checks). */
export function renderPipelineReference(schema: JsonObject): string {
  const rows: string[] = []
  const walk = (s0: JsonObject, prefix: string, depth: number): void => {
    const s = resolveRef(schema, s0)
    const props = (s.properties ?? {}) as Record<string, JsonObject>
    const req = new Set((s.required ?? []) as string[])
    for (const [k, p0] of Object.entries(props)) {
      if (k === '$schema') continue
      const p = resolveRef(schema, p0)
      const name = prefix ? `${prefix}.${k}` : k
      const def = p.default === undefined ? '' : `\`${JSON.stringify(p.default)}\``
      rows.push(`| \`${name}\` | ${typeLabel(p)} | ${req.has(k) ? 'yes' : ''} | ${def} | ${String(p.description ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`)
      if (depth < 3) {
        if (p.type === 'object' || p.properties) walk(p, name, depth + 1)
        const items = p.items as JsonObject | undefined
        if (p.type === 'array' && items && typeof items === 'object') walk(items, `${name}[]`, depth + 1)
      }
    }
  }
  walk(schema, '', 0)
  return [
    '# Pipeline file reference',
    '',
    String(schema.description ?? ''),
    '',
    'Each stage\'s `config` is validated against its plugin\'s own schema: see `tributary plugins inspect NAME` or `plugins/<name>/README.md`.',
    '',
    '| field | type | required | default | description |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
    'Generated from `schemas/pipeline.schema.json` by `npm run docs`.',
    '',
  ].join('\n')
}
