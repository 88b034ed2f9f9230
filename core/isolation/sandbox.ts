/**
 * Everything an isolated plugin process needs before it starts, shared by the runtime's stages
 * (isolate.ts) and the install-time load check (load-check.ts): whether namespaces are available
 * (refused, or the fallback allowed by `namespaces: if-available`), the policy, the host's
 * network proxy, the command line and the environment holding only the declared variables.
 */
import { existsSync, realpathSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { TributaryError } from '../errors.js'
import type { JsonObject, Logger } from '../plugin-api.js'
import type { PluginEntry, PluginManifest } from '../plugins/types.js'
import { requireCompiledApi } from '../app/tributary-install.js'
import { sandboxPolicy } from './policy.js'
import { startNetProxy } from './net-proxy.js'
import { probeSandbox } from './sandbox-probe.js'
import { bwrapArgs, nodeArgs, pluginCodeDir, type SandboxLayout } from './sandbox-command.js'
import type { InitMessage, IsolationSettings } from './types.js'

export interface PreparedSandbox {
  /** What PluginProcess spawns. */
  spawn: { argv: string[]; env: Record<string, string>; cwd: string }
  /** The parts of the init frame that do not depend on the stage. */
  init: Pick<InitMessage, 'entry' | 'policy' | 'proxySocket' | 'env'>
  /** Stops the network proxy (after the process is gone). */
  release(): Promise<void>
}

export async function prepareSandbox(
  entry: PluginEntry,
  permissions: NonNullable<PluginManifest['permissions']>,
  opts: { who: string; baseDir: string; config: JsonObject; logger: Logger; namespaces: IsolationSettings['namespaces'] },
): Promise<PreparedSandbox> {
  const support = await probeSandbox()
  if (!support.ok && opts.namespaces === 'required') {
    throw new TributaryError('E_ISOLATION', `${opts.who} is a community plugin and must run isolated, but this host cannot create namespaces: ${support.reason}`, {
      hint: 'install bubblewrap (`apt-get install bubblewrap`; scripts/setup.sh does) on a kernel that allows user namespaces, or accept running community plugins without network isolation with `isolation: { namespaces: if-available }` in the pipeline file',
    })
  }
  if (!support.ok) opts.logger.warn({ reason: support.reason }, `${opts.who} runs WITHOUT network isolation (isolation.namespaces: if-available): files, processes, workers, addons and environment are still restricted`)
  const policy = sandboxPolicy(permissions, { baseDir: opts.baseDir, config: opts.config })
  const install = requireCompiledApi()
  const proxy = await startNetProxy(policy.network, opts.logger)
  const layout: SandboxLayout = { installRoot: install.root, codeDir: pluginCodeDir(entry.dir), childMain: childMain(install.root), proxySocket: proxy.socketPath, nodeBinary: process.execPath }
  const argv = support.ok ? [support.bwrap, ...bwrapArgs(policy, layout)] : [process.execPath, ...nodeArgs(policy, layout)]
  const env: Record<string, string> = {}
  for (const name of policy.env) if (process.env[name] !== undefined) env[name] = process.env[name]!
  return {
    spawn: { argv, env, cwd: layout.codeDir },
    init: { entry: realpathSync(path.resolve(entry.dir, entry.manifest.entry)), policy, proxySocket: proxy.socketPath, env },
    release: () => proxy.close(),
  }
}

/** The child's entry: beside this module when compiled; under vitest (TS sources), the compiled copy in dist/. */
function childMain(installRoot: string): string {
  const here = fileURLToPath(import.meta.url)
  const file = here.endsWith('.js') ? path.join(path.dirname(here), 'child', 'main.js') : path.join(installRoot, 'dist', 'core', 'isolation', 'child', 'main.js')
  if (!existsSync(file)) throw new TributaryError('E_INTERNAL', `the isolated plugin host ${file} is missing`, { hint: 'run `npm run build` in the Tributary folder (or reinstall Tributary)' })
  return file
}
