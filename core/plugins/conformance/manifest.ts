import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import semver from 'semver'
import { ValidationError, formatIssue } from '../../errors.js'
import type { JsonObject } from '../../plugin-api.js'
import { parseConfigText } from '../../config/source-map.js'
import { resolveConfigPaths } from '../../config/paths.js'
import { validateManifest } from '../../manifest/validate.js'
import { compileSchema } from '../../schema/ajv.js'
import { ajvIssues } from '../../schema/issues.js'
import { formatPath } from '../../config/json-path.js'
import { tributaryInstall } from '../../app/tributary-install.js'
import type { PluginManifest } from '../types.js'
import { describeError } from './hooks.js'
import type { Recorder } from './recorder.js'

/** plugin.json is valid against the manifest schema (every error, with its line). */
export async function checkManifest(dir: string, r: Recorder): Promise<PluginManifest | undefined> {
  const file = path.join(dir, 'plugin.json')
  if (!existsSync(file)) {
    r.fail('manifest', `${file} does not exist: a plugin carries a plugin.json at its root`)
    return undefined
  }
  try {
    const parsed = parseConfigText(await readFile(file, 'utf8'), file)
    const m = validateManifest(parsed.value, file, { locate: parsed.locate })
    r.pass('manifest', `plugin.json is valid: ${m.kind} "${m.name}" ${m.version}`)
    return m
  } catch (err) {
    if (err instanceof ValidationError) r.fail('manifest', `plugin.json is invalid:\n${err.issues.map(formatIssue).join('\n')}`)
    else r.fail('manifest', `plugin.json cannot be read: ${describeError(err)}`)
    return undefined
  }
}

/** Why a failed import may be a missing `tributary/plugin`, with the fix. */
export function apiHint(dir: string): string {
  try {
    createRequire(path.join(dir, 'package.json')).resolve('tributary/plugin')
    return ''
  } catch {
    return `; \`tributary/plugin\` cannot be resolved from ${dir}: run \`npm install\` there (the package's devDependency \`tributary\` links this Tributary install)`
  }
}

export function checkEngine(m: PluginManifest, r: Recorder): void {
  const version = tributaryInstall().version
  if (semver.satisfies(version, m.engine, { includePrerelease: true })) r.pass('engine', `engine ${m.engine} includes this Tributary (${version})`)
  else r.fail('engine', `engine ${m.engine} does not include this Tributary (${version}): \`plugins install\` would refuse the plugin`)
}

/**
 * The config the hooks get: the given one (or the schema's first example, or `{}`) with the
 * schema's defaults applied, exactly as a pipeline's stage config would be. Undefined when there
 * is no valid config to run the hooks with.
 */
export function checkConfig(m: PluginManifest, given: JsonObject | undefined, baseDir: string, r: Recorder): JsonObject | undefined {
  const examples = m.config.examples
  const example = Array.isArray(examples) && examples[0] && typeof examples[0] === 'object' && !Array.isArray(examples[0]) ? (examples[0] as JsonObject) : undefined
  const raw = given ?? example ?? {}
  const from = given ? 'the given config' : example ? 'the first of `examples` in its config schema' : 'an empty config'
  const config = structuredClone(raw)
  const validate = compileSchema(m.config)
  const props = (m.config.properties ?? {}) as Record<string, JsonObject>
  if (!validate(config)) {
    const found = ajvIssues(validate.errors, config, { written: raw })
    const text = (list: typeof found): string => list.map((i) => `${formatPath(i.at) || '(config)'}: ${i.message}`).join('; ')
    // A default that fails its own schema is the plugin's bug, whatever config it is given.
    const fromDefaults = found.filter((i) => typeof i.at[0] === 'string' && !(i.at[0] in raw) && props[i.at[0]]?.default !== undefined)
    if (fromDefaults.length) r.fail('config', `a default in the config schema is invalid: ${text(fromDefaults)}`)
    else if (!given && !example) r.skip('config', `the plugin needs a config (${text(found)}): pass one (\`--config\`) or add \`examples\` to its config schema, so its hooks can be run`)
    else r.fail('config', `${from} is invalid: ${text(found)}`)
    return undefined
  }
  r.pass('config', `${from} is valid against the plugin's config schema`)

  const defaulted = Object.entries(props).filter(([k, p]) => p.default !== undefined && !(k in raw))
  const missing = defaulted.filter(([k]) => !(k in config)).map(([k]) => k)
  if (missing.length) r.fail('defaults', `defaults were not applied to ${missing.join(', ')}`)
  else r.pass('defaults', defaulted.length ? `schema defaults applied and valid: ${defaulted.map(([k]) => `${k}=${JSON.stringify(config[k])}`).join(', ')}` : 'no defaults to apply')
  const undocumented = undocumentedOptions(m.config, '')
  if (undocumented.length) r.warn('docs', `options without a description (the plugin's docs are generated from them): ${undocumented.join(', ')}`)
  else r.pass('docs', 'every option has a description')
  return resolveConfigPaths(config, m.config, baseDir)
}

function undocumentedOptions(schema: JsonObject, prefix: string): string[] {
  const out: string[] = []
  for (const [k, p] of Object.entries((schema.properties ?? {}) as Record<string, JsonObject>)) {
    const name = prefix ? `${prefix}.${k}` : k
    if (typeof p.description !== 'string' || p.description.trim() === '') out.push(name)
    if (p.type === 'object' && p.properties) out.push(...undocumentedOptions(p, name))
  }
  return out
}
