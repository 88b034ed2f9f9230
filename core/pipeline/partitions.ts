import type { JsonObject } from '../plugin-api.js'
import type { PluginManifest } from '../plugins/types.js'
import type { JsonPath, PathIssue } from '../config/json-path.js'

/** A stage's `partitions` as checked: the count, and the key's dotted paths when split. */
export interface StagePartitions {
  partitions: number
  /** Dotted field paths whose values make a record's key (set when partitions > 1). */
  partitionKey?: string[]
}

/**
 * `partitions: N` on a stage (docs/state.md): allowed only where the plugin is stateful and its
 * manifest names the config field holding the key (`partitionBy`), and only when that field
 * gives one non-empty key for every record. Anything else is an issue that names the stage and
 * the fix.
 */
export function checkStagePartitions(node: Record<string, unknown>, manifest: PluginManifest, config: JsonObject, at: JsonPath, issues: PathIssue[]): StagePartitions {
  const n = node.partitions
  if (typeof n !== 'number' || !Number.isInteger(n) || n <= 1) return { partitions: 1 }
  const issueAt = [...at, 'partitions']
  const stage = `stage "${typeof node.id === 'string' ? node.id : manifest.name}" (${manifest.kind} ${manifest.name})`
  const fail = (message: string): StagePartitions => {
    issues.push({ at: issueAt, message })
    return { partitions: 1 }
  }
  if (manifest.kind !== 'transform' || manifest.stateful !== true) {
    return fail(`${stage} cannot be split into partitions: only stateful transforms (window, dedupe, aggregate, join) are; a stateless stage scales out on its shared durable (fleet workers share it) — remove \`partitions\``)
  }
  const fields = manifest.partitionBy === undefined ? [] : Array.isArray(manifest.partitionBy) ? manifest.partitionBy : [manifest.partitionBy]
  if (fields.length === 0) {
    return fail(`${stage} cannot be split into partitions: plugin "${manifest.name}" does not declare which config field holds its key (\`partitionBy\` in its plugin.json) — remove \`partitions\`, or ask the plugin's author to declare it`)
  }
  const set = fields.flatMap((f) => {
    const v = config[f]
    if (typeof v === 'string') return [{ field: f, paths: [v] }]
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return [{ field: f, paths: v as string[] }]
    return []
  })
  if (set.length === 0) return fail(`${stage} needs a key to be split into partitions: set \`config.${fields[0]}\`, or remove \`partitions\``)
  const empty = set.find((s) => s.paths.length === 0)
  if (empty) {
    return fail(`${stage} has an empty \`config.${empty.field}\`: every record has the same key, so one partition would get them all — set \`${empty.field}\` to the fields that make a key, or remove \`partitions\``)
  }
  const [first, ...others] = set
  const other = others.find((s) => JSON.stringify(s.paths) !== JSON.stringify(first!.paths))
  if (other) {
    return fail(`${stage} cannot be split into partitions: \`config.${first!.field}\` and \`config.${other.field}\` name different key fields, so a record's partition would depend on which one applies to it — give both sides the same field name (a \`map\` before the stage) and drop \`${other.field}\`, or remove \`partitions\``)
  }
  return { partitions: n, partitionKey: first!.paths }
}
