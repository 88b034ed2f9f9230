/**
 * Turns a plugin's accepted permissions into what one stage's sandbox allows. Paths become
 * absolute: `~/…` is the user's home, a relative path is relative to the pipeline file's folder,
 * and `${config.<field>}` stands for a path the user gives in the stage's config (already made
 * absolute by `"format": "path"`), so a plugin can read the file its user names without being
 * allowed everything. A field that is not set grants nothing.
 */
import os from 'node:os'
import path from 'node:path'
import type { JsonObject, JsonValue } from '../plugin-api.js'
import type { PluginManifest } from '../plugins/types.js'
import { parseHostRule } from './host-rules.js'
import type { SandboxPolicy } from './types.js'

type Permissions = NonNullable<PluginManifest['permissions']>

export function sandboxPolicy(p: Permissions | undefined, opts: { baseDir: string; config: JsonObject }): SandboxPolicy {
  const paths = (list: readonly string[] | undefined): string[] => [...new Set((list ?? []).flatMap((entry) => expandPath(entry, opts)))]
  const write = paths(p?.write)
  return {
    // What a plugin may write it may also read back: a declared log or output folder works both ways.
    read: [...new Set([...paths(p?.read), ...write])],
    write,
    env: [...(p?.env ?? [])],
    spawn: p?.spawn === true,
    workers: p?.workers === true,
    addons: p?.addons === true,
    network: (p?.network ?? []).map(parseHostRule),
  }
}

const CONFIG_REF = /^\$\{config\.([A-Za-z0-9_.-]+)\}(.*)$/

function expandPath(entry: string, opts: { baseDir: string; config: JsonObject }): string[] {
  const ref = CONFIG_REF.exec(entry)
  if (ref) {
    const v = lookup(opts.config, ref[1]!)
    const values = Array.isArray(v) ? v : [v]
    return values.filter((x): x is string => typeof x === 'string' && x.length > 0).map((x) => absolute(`${x}${ref[2]!}`, opts.baseDir))
  }
  return [absolute(entry, opts.baseDir)]
}

function absolute(p: string, baseDir: string): string {
  if (p === '~' || p.startsWith('~/')) return path.join(os.homedir(), p.slice(1))
  return path.resolve(baseDir, p)
}

function lookup(obj: JsonObject, dotted: string): JsonValue | undefined {
  let cur: JsonValue | undefined = obj
  for (const k of dotted.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined
    cur = cur[k]
  }
  return cur
}
