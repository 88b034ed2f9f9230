/**
 * The install-time load check of a community plugin (`plugins install|update`), run sandboxed
 * like the plugin itself: its module's top-level code is the first of it to run, so it already
 * meets the permissions the user just accepted. Where this host cannot create namespaces it runs
 * under Node's permission model alone (files, processes, workers, addons, environment) and says so.
 */
import { TributaryError, errorMessage } from '../errors.js'
import type { Logger } from '../plugin-api.js'
import type { PluginEntry } from '../plugins/types.js'
import { prepareSandbox } from './sandbox.js'
import { PluginProcess } from './plugin-process.js'
import { DEFAULT_ISOLATION } from './types.js'

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} }

export async function checkLoadsIsolated(entry: PluginEntry, log: { warn(msg: string): void }): Promise<void> {
  const m = entry.manifest
  const who = `plugin "${m.name}" (${m.kind})`
  const logger: Logger = { ...quiet, warn: (obj, msg) => log.warn(typeof obj === 'string' ? obj : (msg ?? '')) }
  const sandbox = await prepareSandbox(entry, m.permissions ?? {}, { who, baseDir: entry.dir, config: {}, logger, namespaces: 'if-available' })
  const proc = new PluginProcess({ ...sandbox.spawn, who, logger, state: { get: async () => undefined, put: async () => undefined }, metrics: { counter: () => ({ inc() {} }), gauge: () => ({ set() {}, inc() {}, dec() {} }) }, hookTimeoutMs: DEFAULT_ISOLATION.hookTimeoutMs })
  try {
    await proc.init({ ...sandbox.init, probe: true, plugin: { name: m.name, kind: m.kind, stage: '(install check)', pipeline: '' }, baseDir: entry.dir, config: {} })
  } catch (err) {
    if (err instanceof TributaryError && err.message.startsWith(who)) throw err
    throw new TributaryError('E_PLUGIN', `${who} failed to load ${sandbox.init.entry} in its sandbox: ${errorMessage(err)}`, { cause: err, hint: 'fix the plugin code (or declare the permissions its module needs when it loads), then install it again' })
  } finally {
    await proc.shutdown()
    await sandbox.release()
  }
}
