/**
 * Pipeline file → PipelineSpec: the one place where a pipeline's config is read, checked and
 * normalized (STYLE: config is normalized once; nothing downstream re-reads the raw file).
 *
 * parse (with positions) → resolve secret references → check against pipeline.schema.json
 * (defaults applied) → per stage: find the plugin by (kind, use), check its `config` against
 * the plugin's schema (defaults applied), make `"format": "path"` fields absolute, check a
 * sink's `where` → stage ids → retention in ms/bytes → `nats` normalized.
 *
 * Every problem is collected, then thrown as one ValidationError whose issues carry file,
 * line, column, JSON path, a sentence and, where one is close, a suggestion.
 *
 * Secrets are resolved before the schema checks so that a field such as `url:
 * "${env:CH_URL}"` is checked as the URL it will be; messages quote values as written in the
 * file ("(got …)"), so a resolved secret never appears in one.
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { TributaryError, ValidationError, errorMessage, type ValidationIssue } from '../errors.js'
import type { JsonObject, PluginKind } from '../plugin-api.js'
import type { PluginRegistry } from '../plugins/types.js'
import { compileExpression } from '../expr/cel.js'
import { parseConfigText } from '../config/source-map.js'
import { resolveSecrets } from '../config/secrets.js'
import { resolveConfigPaths } from '../config/paths.js'
import { bytesCount, durationMs } from '../config/units.js'
import { formatPath, isWithin, valueAt, type JsonPath, type PathIssue } from '../config/json-path.js'
import { compileSchema } from '../schema/ajv.js'
import { ajvIssues, closest } from '../schema/issues.js'
import { pipelineSchema } from '../schema/schemas.js'
import { assignStageIds } from './stage-ids.js'
import { checkStagePartitions } from './partitions.js'
import type { IsolationSpec, NatsConnectionConfig, PipelineSpec, RetentionSpec, StageSpec } from './types.js'

export interface LoadOptions {
  /** Environment for `${env:NAME}` references (default: process.env). */
  env?: NodeJS.ProcessEnv
}

export async function loadPipeline(file: string, registry: PluginRegistry, opts: LoadOptions = {}): Promise<PipelineSpec> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : errorMessage(err)
    throw new TributaryError('E_FILE', `cannot read the pipeline file ${file}: ${why}`, { hint: 'check the path (`tributary init` writes an example pipeline)', cause: err })
  }
  return loadPipelineFromText(text, file, registry, opts)
}

/** `file` names the source in messages and is the base of relative paths ('' = in memory, relative to the cwd). */
export async function loadPipelineFromText(text: string, file: string, registry: PluginRegistry, opts: LoadOptions = {}): Promise<PipelineSpec> {
  const abs = file ? path.resolve(file) : ''
  const baseDir = abs ? path.dirname(abs) : process.cwd()
  const label = file || '<pipeline>'
  const parsed = parseConfigText(text, label)
  const written = parsed.value
  const fail = (issues: PathIssue[]): ValidationError =>
    new ValidationError(`pipeline ${label}`, sortByPosition(issues.map((i): ValidationIssue => ({ file: label, ...parsed.locate(i.at), path: formatPath(i.at), message: i.message, suggestion: i.suggestion }))))
  if (written === null || written === undefined) {
    throw fail([{ at: [], message: 'the file is empty; a pipeline needs at least `name`, `source` and `sinks` (`tributary init` writes an example)' }])
  }

  const resolved = await resolveSecrets(written, { baseDir, env: opts.env ?? process.env })
  const doc = resolved.value as Record<string, unknown> // our own copy: validation adds defaults to it
  const issues: PathIssue[] = [...resolved.issues]
  const validate = compileSchema(pipelineSchema)
  if (!validate(doc)) issues.push(...ajvIssues(validate.errors, doc, { written }))

  const stages = stageNodes(doc)
  const specs = stages.map((s) => checkStage(s, registry, baseDir, written, issues))
  const ids = assignStageIds(stages.map((s) => ({ id: typeof s.node.id === 'string' ? s.node.id : undefined, use: String(s.node.use ?? ''), at: s.at })))
  issues.push(...ids.issues)
  const retention = checkRetention(doc.retention, issues)

  // An unresolved reference is reported once: drop the schema's complaints about the same string.
  const secretPaths = resolved.issues.map((i) => i.at)
  const reported = issues.filter((i) => resolved.issues.includes(i) || !secretPaths.some((p) => isWithin(i.at, p)))
  if (reported.length > 0) throw fail(reported)

  // Every stage that could not be checked has an issue, so here all of them are there.
  const withIds = specs.map((s, i) => ({ id: ids.ids[i]!, ...s! }))
  return {
    name: doc.name as string,
    file: abs,
    baseDir,
    source: withIds.find((s) => s.kind === 'source')!,
    transforms: withIds.filter((s) => s.kind === 'transform'),
    sinks: withIds.filter((s) => s.kind === 'sink'),
    retention: retention!,
    delivery: { maxDeliver: (doc.delivery as { maxDeliver: number }).maxDeliver, ackWaitMs: durationMs((doc.delivery as { ackWait: unknown }).ackWait)! },
    isolation: normalizeIsolation(doc.isolation as { hookTimeout: unknown; restarts: number; namespaces: 'required' | 'if-available' }),
    replicas: doc.replicas as number,
    ...(doc.nats ? { nats: normalizeNats(doc.nats as RawNats, baseDir) } : {}),
    ...(doc.metrics ? { metrics: doc.metrics as { port: number; host: string } } : {}),
    secrets: resolved.secrets,
  }
}

interface StageNode {
  kind: PluginKind
  at: JsonPath
  node: Record<string, unknown>
}

/** The stages as written, in file order; malformed ones are left to the schema's issues. */
function stageNodes(doc: Record<string, unknown>): StageNode[] {
  const out: StageNode[] = []
  const add = (kind: PluginKind, at: JsonPath, node: unknown): void => {
    if (node !== null && typeof node === 'object' && !Array.isArray(node)) out.push({ kind, at, node: node as Record<string, unknown> })
  }
  add('source', ['source'], doc.source)
  if (Array.isArray(doc.transforms)) doc.transforms.forEach((t, i) => add('transform', ['transforms', i], t))
  if (Array.isArray(doc.sinks)) doc.sinks.forEach((t, i) => add('sink', ['sinks', i], t))
  return out
}

function checkStage(s: StageNode, registry: PluginRegistry, baseDir: string, written: unknown, issues: PathIssue[]): Omit<StageSpec, 'id'> | undefined {
  const { kind, at, node } = s
  if (typeof node.use !== 'string') return undefined
  const use = node.use
  const where = typeof node.where === 'string' ? node.where : undefined
  if (where !== undefined && kind === 'sink') {
    try {
      compileExpression(where)
    } catch (err) {
      issues.push({ at: [...at, 'where'], message: errorMessage(err) })
    }
  }
  const plugin = registry.get(kind, use)
  if (!plugin) {
    issues.push(unknownPlugin(kind, use, [...at, 'use'], registry))
    return undefined
  }
  const config = node.config
  if (config === null || typeof config !== 'object' || Array.isArray(config)) return undefined
  const schema = plugin.manifest.config
  const validate = compileSchema(schema)
  if (!validate(config)) {
    const configAt = [...at, 'config']
    issues.push(...ajvIssues(validate.errors, config, { at: configAt, written: valueAt(written, configAt) }))
    return undefined
  }
  // Only transforms may say `partitions` (the schema refuses it elsewhere).
  const split = kind === 'transform' ? checkStagePartitions(node, plugin.manifest, config as JsonObject, at, issues) : { partitions: 1 }
  return {
    kind,
    use,
    config: resolveConfigPaths(config as JsonObject, schema, baseDir),
    ...(where !== undefined ? { where } : {}),
    ...(typeof node.boundary === 'boolean' ? { boundary: node.boundary } : {}),
    path: formatPath(at),
    ...(split.partitions > 1 ? split : {}),
  }
}

function unknownPlugin(kind: PluginKind, use: string, at: JsonPath, registry: PluginRegistry): PathIssue {
  const otherKinds = (['source', 'transform', 'sink'] as const).filter((k) => k !== kind && registry.get(k, use))
  const other = otherKinds.length > 0 ? `; "${use}" is a ${otherKinds.join(' and a ')} plugin, it cannot be used as a ${kind}` : ''
  return {
    at,
    message: `no ${kind} plugin named "${use}"${other}; run \`tributary plugins list\` to see the plugins`,
    suggestion: closest(use, registry.names(kind)),
  }
}

/** Retention in ms and bytes; undefined when the schema already reported it. */
function checkRetention(raw: unknown, issues: PathIssue[]): RetentionSpec | undefined {
  const r = (raw ?? {}) as Record<string, unknown>
  const maxAgeMs = durationMs(r.maxAge)
  const maxBytes = bytesCount(r.maxBytes)
  const duplicateWindowMs = durationMs(r.duplicateWindow)
  if (maxAgeMs === undefined || maxBytes === undefined || duplicateWindowMs === undefined) return undefined
  if (maxBytes === 0) {
    issues.push({ at: ['retention', 'maxBytes'], message: 'must be more than 0 bytes: the stream is bounded, and a full stream pushes back to the source' })
  }
  if (maxAgeMs > 0 && duplicateWindowMs > maxAgeMs) {
    issues.push({ at: ['retention', 'duplicateWindow'], message: `must not be longer than retention.maxAge (${String(r.duplicateWindow)} > ${String(r.maxAge)}): JetStream refuses such a stream` })
  }
  return { maxAgeMs, maxBytes, duplicateWindowMs }
}

type RawNats = Omit<NatsConnectionConfig, 'servers'> & { servers: string | string[] }

/** `servers` as a list (a string may hold several, comma-separated); file paths made absolute. */
function normalizeNats(raw: RawNats, baseDir: string): NatsConnectionConfig {
  const natsSchema = (pipelineSchema as { properties: { nats: object } }).properties.nats
  const withPaths = resolveConfigPaths(raw, natsSchema, baseDir)
  const servers = (Array.isArray(raw.servers) ? raw.servers : raw.servers.split(',')).map((s) => s.trim()).filter(Boolean)
  return { ...withPaths, servers }
}

/** Issues in the order they appear in the file. */
function sortByPosition(issues: ValidationIssue[]): ValidationIssue[] {
  return issues
    .map((i, n) => ({ i, n }))
    .sort((a, b) => (a.i.line ?? Infinity) - (b.i.line ?? Infinity) || (a.i.column ?? 0) - (b.i.column ?? 0) || a.n - b.n)
    .map(({ i }) => i)
}

function normalizeIsolation(i: { hookTimeout: unknown; restarts: number; namespaces: 'required' | 'if-available' }): IsolationSpec {
  return { hookTimeoutMs: durationMs(i.hookTimeout)!, restarts: i.restarts, namespaces: i.namespaces }
}
