/**
 * The conformance suite: one standard set of checks that every plugin, built-in or community,
 * passes. Runs in-process without servers or vitest (it is `tributary plugins test`), and
 * returns a JSON report.
 *
 * manifest → load (default export of the right kind) → engine → config (defaults, docs) →
 * open and the kind's hooks (see transform.ts, sink.ts, source.ts) → close → handles.
 */
import path from 'node:path'
import type { PluginDefinition, SinkDefinition, SourceDefinition, TransformDefinition } from '../../plugin-api.js'
import { readPlugin } from '../registry.js'
import { SAMPLE_RECORDS } from './samples.js'
import { Recorder } from './recorder.js'
import { suiteEnv } from './env.js'
import { describeError, withDeadline } from './hooks.js'
import { activeResources, leftovers } from './handles.js'
import { apiHint, checkConfig, checkEngine, checkManifest } from './manifest.js'
import { checkTransform } from './transform.js'
import { checkSink } from './sink.js'
import { checkSource } from './source.js'
import type { ConformanceOptions, ConformanceReport } from './types.js'

export async function runConformance(target: { dir: string; builtin?: boolean }, opts: ConformanceOptions = {}): Promise<ConformanceReport> {
  const dir = path.resolve(target.dir)
  const level = opts.level ?? 'full'
  const timeoutMs = opts.timeoutMs ?? 10_000
  const r = new Recorder()
  const report = (m?: { name: string; kind: ConformanceReport['plugin']['kind']; version: string }): ConformanceReport => {
    const counts = { pass: 0, fail: 0, warn: 0, skip: 0 }
    for (const c of r.checks) counts[c.status]++
    return { plugin: { ...(m ? { name: m.name, kind: m.kind, version: m.version } : {}), dir, builtin: target.builtin ?? false }, level, ok: counts.fail === 0, counts, checks: r.checks, dlq: r.dlq }
  }

  const manifest = await checkManifest(dir, r)
  if (!manifest) return report()
  let def: PluginDefinition
  try {
    def = await (await readPlugin(dir, target.builtin ?? false)).load()
    const define = `define${manifest.kind[0]!.toUpperCase()}${manifest.kind.slice(1)}`
    r.pass('load', `${manifest.entry} exports a ${manifest.kind} made with ${define}()`)
  } catch (err) {
    r.fail('load', `${describeError(err)}${apiHint(dir)}`)
    return report(manifest)
  }
  checkEngine(manifest, r)
  const config = checkConfig(manifest, opts.config, opts.baseDir ?? process.cwd(), r)
  if (level === 'manifest') {
    r.skip('hooks', 'manifest level: no hook was run (the plugin needs a server); run `tributary plugins test` without --manifest-only where one is reachable')
    return report(manifest)
  }
  if (!config) {
    r.skip('hooks', 'no valid config to open the plugin with')
    return report(manifest)
  }

  const env = suiteEnv(manifest, config, opts.records ?? SAMPLE_RECORDS, timeoutMs, opts.baseDir ?? process.cwd(), opts.logger)
  const before = activeResources()
  let opened: { close?(): Promise<void> }[] = []
  try {
    if (def.kind === 'transform') opened = await checkTransform(def as TransformDefinition<unknown>, env, r)
    else if (def.kind === 'sink') opened = await checkSink(def as SinkDefinition<unknown>, env, r)
    else opened = await checkSource(def as SourceDefinition<unknown>, env, r)
  } finally {
    const failures: string[] = []
    for (const o of opened) {
      try {
        await withDeadline('close()', timeoutMs, () => o.close?.())
      } catch (err) {
        failures.push(describeError(err))
      }
    }
    env.abortAll()
    if (opened.length === 0) r.skip('close', 'nothing was opened')
    else if (failures.length) r.fail('close', `close() failed: ${failures.join('; ')}`)
    else r.pass('close', `${opened.length} opened ${opened.length === 1 ? 'instance' : 'instances'} closed`)
  }
  if (opened.length > 0) {
    const left = await leftovers(before)
    if (left.length) r.fail('handles', `after close(), still open: ${left.join(', ')} (timers, sockets or files the plugin did not release)`)
    else r.pass('handles', 'no timers, sockets or files left open after close()')
  }
  return report(manifest)
}
