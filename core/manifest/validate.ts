/**
 * Checks a plugin.json: against schemas/plugin-manifest.schema.json, then its `config` as a
 * JSON Schema that ajv can compile (a plugin whose config schema is broken would otherwise fail
 * only when a pipeline uses it). Every problem is reported at once, each with its JSON path.
 */
import { ValidationError, errorMessage, type ValidationIssue } from '../errors.js'
import { formatPath, type JsonPath, type PathIssue } from '../config/json-path.js'
import type { Position } from '../config/source-map.js'
import { compileSchema, schemaErrors } from '../schema/ajv.js'
import { ajvIssues, closest } from '../schema/issues.js'
import { manifestSchema } from '../schema/schemas.js'
import type { PluginManifest } from '../plugins/types.js'

export interface ManifestOptions {
  /** Source positions of the manifest file, so issues carry line and column. */
  locate?: (path: JsonPath) => Position | undefined
  /**
   * Compile `config` to check it is a usable JSON Schema (default true). Built-in plugins skip it
   * when the registry loads: the conformance tests check theirs, and compiling ~25 schemas at
   * every start costs ~300 ms; a schema is compiled anyway when a pipeline uses the plugin.
   */
  checkConfigSchema?: boolean
}

/** Returns the manifest with its schema defaults applied; throws a ValidationError listing every problem. */
export function validateManifest(json: unknown, file: string, opts: ManifestOptions = {}): PluginManifest {
  const issues: PathIssue[] = []
  const manifest = structuredClone(json)
  const validate = compileSchema(manifestSchema)
  if (!validate(manifest)) issues.push(...ajvIssues(validate.errors, manifest, { written: json }))

  // Checked as a schema only when it passed the manifest schema's own checks of it (type,
  // $schema): an unknown `$schema` would make ajv throw instead of reporting.
  const config = (manifest as { config?: unknown } | null)?.config
  const configOk = !issues.some((i) => i.at[0] === 'config')
  if (opts.checkConfigSchema !== false && configOk && config !== null && typeof config === 'object' && !Array.isArray(config)) issues.push(...configSchemaIssues(config))

  issues.push(...partitionByIssues(manifest))

  if (issues.length > 0) {
    const located: ValidationIssue[] = issues.map((i) => ({ file, ...opts.locate?.(i.at), path: formatPath(i.at), message: i.message, suggestion: i.suggestion }))
    throw new ValidationError(`plugin manifest ${file}`, located, 'fix plugin.json (its schema is schemas/plugin-manifest.schema.json)')
  }
  return manifest as PluginManifest
}

/** `partitionBy` belongs to stateful transforms and names fields of their own config. */
function partitionByIssues(manifest: unknown): PathIssue[] {
  const m = manifest as { kind?: unknown; stateful?: unknown; partitionBy?: unknown; config?: { properties?: Record<string, unknown> } } | null
  if (!m || m.partitionBy === undefined) return []
  if (m.kind !== 'transform' || m.stateful !== true) return [{ at: ['partitionBy'], message: 'only a stateful transform (`"kind": "transform"`, `"stateful": true`) declares a partition key' }]
  const fields = Array.isArray(m.partitionBy) ? m.partitionBy : [m.partitionBy]
  const props = m.config?.properties ?? {}
  return fields.flatMap((f, i) =>
    typeof f === 'string' && !(f in props) ? [{ at: Array.isArray(m.partitionBy) ? ['partitionBy', i] : ['partitionBy'], message: `names "${f}", which is not a property of \`config\``, suggestion: closest(f, Object.keys(props)) }] : [],
  )
}

/** Problems of `config` as a JSON Schema: meta-schema errors by path, else a compile error. */
function configSchemaIssues(config: object): PathIssue[] {
  try {
    const meta = schemaErrors(config)
    if (meta.length > 0) {
      return ajvIssues(meta, config, { at: ['config'] }).map((i) => ({ ...i, message: `${i.message}; \`config\` must be a valid JSON Schema (2020-12)` }))
    }
    compileSchema(config)
    return []
  } catch (err) {
    // e.g. a `$ref` that points nowhere: ajv names it in its message.
    return [{ at: ['config'], message: `is not a JSON Schema that can be compiled: ${errorMessage(err)}` }]
  }
}
