/**
 * The one ajv instance (JSON Schema 2020-12) that checks pipeline files, plugin manifests and
 * plugin configs. Each schema is compiled once and its validator cached by the schema object's
 * identity (ESLint does the same with rule options): a schema is a long-lived object (imported
 * JSON, a manifest held by the registry), so the cache costs nothing and never goes stale.
 */
import ajv2020Module, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js'
import ajvFormatsModule from 'ajv-formats'
import semver from 'semver'
import { bytesCount, durationMs } from '../config/units.js'

// ajv and ajv-formats are CommonJS: under NodeNext the default import is `module.exports`, and
// the class / plugin is its `.default`.
const Ajv2020 = ajv2020Module.default
const addFormats = ajvFormatsModule.default

export type { ErrorObject, ValidateFunction }
export type Schema = object

const ajv = new Ajv2020({
  allErrors: true, // report every problem in one pass, not the first
  useDefaults: true, // defaults come from the schema, the one place they are written
  strict: false, // plugin authors write schemas by hand; unknown keywords are annotations
  verbose: true, // errors carry their schema and data: needed for did-you-mean and "(got 42)"
  logger: false, // with strict off ajv would print "unknown format" warnings on stderr
  // Compiling the 2020-12 meta-schema to check every schema compiled took ~70 ms of each start.
  // Our own schemas are held valid by the unit tests; a community plugin's config schema is
  // checked against the meta-schema by validateManifest (schemaErrors) before it is compiled.
  validateSchema: false,
})
addFormats(ajv)

// Tributary's own formats. `path` accepts any string: it marks fields that the loader resolves
// against the pipeline file's folder. `duration` replaces ajv-formats' ISO 8601 one.
ajv.addFormat('path', { type: 'string', validate: () => true })
ajv.addFormat('duration', { type: 'string', validate: (s: string) => durationMs(s) !== undefined })
ajv.addFormat('bytes', { type: 'string', validate: (s: string) => bytesCount(s) !== undefined })
ajv.addFormat('semver', { type: 'string', validate: (s: string) => semver.valid(s) !== null })
ajv.addFormat('semver-range', { type: 'string', validate: (s: string) => semver.validRange(s) !== null })

const cache = new WeakMap<object, ValidateFunction>()

/**
 * The validator of `schema`, compiled on first use. Throws when the schema is not a valid
 * JSON Schema (the error message says where). Validators apply `default`s, so callers that
 * must keep their input unchanged validate a copy.
 */
export function compileSchema(schema: Schema): ValidateFunction {
  const cached = cache.get(schema)
  if (cached) return cached
  const v = ajv.compile(withoutTakenId(schema))
  cache.set(schema, v)
  return v
}

/**
 * Meta-schema errors of `schema` (empty when it is a valid JSON Schema), for error messages
 * that point into the schema instead of one opaque "schema is invalid".
 */
export function schemaErrors(schema: Schema): ErrorObject[] {
  return ajv.validateSchema(schema) ? [] : [...(ajv.errors ?? [])]
}

// ajv registers a schema under its `$id` and refuses a second schema with the same one. Two
// plugins may copy the same `$id` (or one schema may be a clone of another): compile those
// without it, which changes nothing for local `#/...` references.
function withoutTakenId(schema: Schema): Schema {
  const id = (schema as { $id?: unknown }).$id
  if (typeof id !== 'string' || ajv.getSchema(id) === undefined) return schema
  const { $id: _taken, ...rest } = schema as Record<string, unknown>
  return rest
}
