import type { JsonObject, PluginDefinition, PluginKind } from '../plugin-api.js'

/** plugin.json, validated by schemas/plugin-manifest.schema.json. */
export interface PluginManifest {
  name: string
  version: string
  kind: PluginKind
  entry: string
  description: string
  engine: string
  /** JSON Schema of the plugin's config; its defaults and descriptions are the docs. */
  config: JsonObject
  input?: JsonObject
  output?: JsonObject
  /** Keeps per-key state: never fused with its neighbours, runs behind a JetStream boundary. */
  stateful?: boolean
  /** Sources in a fleet: one worker at a time under a lease (`single`, also when absent) or every worker (`per-worker`). */
  instances?: 'single' | 'per-worker'
  /** Stateful transforms: the config field(s) holding the records' key, so a stage can be split into key partitions. */
  partitionBy?: string | string[]
  permissions?: {
    network?: string[]
    read?: string[]
    write?: string[]
    env?: string[]
    spawn?: boolean
    workers?: boolean
    addons?: boolean
  }
}

export interface PluginEntry {
  manifest: PluginManifest
  /** Folder holding plugin.json. */
  dir: string
  builtin: boolean
  load(): Promise<PluginDefinition>
}

export interface PluginRegistry {
  get(kind: PluginKind, name: string): PluginEntry | undefined
  list(): PluginEntry[]
  /** Names of all plugins of a kind, for did-you-mean suggestions. */
  names(kind: PluginKind): string[]
}
