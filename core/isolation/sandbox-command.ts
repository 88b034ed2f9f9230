/**
 * The command line of an isolated plugin process: two layers around `node child/main.js`.
 *
 * 1. bubblewrap (`bwrap`): new user, PID, IPC, UTS, cgroup and **network** namespaces (only a
 *    loopback inside; the host's allowlisting proxy, a Unix socket bound in, is the only way out),
 *    and a new mount namespace holding only what the process needs — /usr read-only, the
 *    node binary, Tributary's dist/ and node_modules/, the plugin's code, the declared paths
 *    (read-only or writable) and the proxy socket. Nothing else of the host's filesystem exists
 *    in there: not the Tributary home, not other Unix sockets. No capabilities; dies with its parent.
 * 2. Node's permission model inside: file reads and writes limited to the same paths, no child
 *    processes, worker threads or addons unless declared.
 *
 * Without bubblewrap (`namespaces: if-available`), only layer 2 applies.
 */
import { existsSync, lstatSync, readlinkSync, realpathSync } from 'node:fs'
import path from 'node:path'
import type { SandboxPolicy } from './types.js'

export interface SandboxLayout {
  /** The Tributary install: its dist/ and node_modules/ are readable (the API, the child's own code). */
  installRoot: string
  /** Folder of the plugin's code to make readable: its package folder, or the store's node_modules holding it and its dependencies. */
  codeDir: string
  childMain: string
  proxySocket: string
  nodeBinary: string
}

/** Node's flags: the permission model with exactly the declared rights. */
export function nodeArgs(policy: SandboxPolicy, layout: SandboxLayout): string[] {
  const read = [path.join(layout.installRoot, 'dist'), path.join(layout.installRoot, 'node_modules'), path.join(layout.installRoot, 'package.json'), layout.codeDir, ...policy.read]
  const args = ['--experimental-permission', '--disable-warning=ExperimentalWarning']
  for (const p of read) args.push(`--allow-fs-read=${p}`)
  for (const p of policy.write) args.push(`--allow-fs-write=${p}`)
  if (policy.spawn) args.push('--allow-child-process')
  if (policy.workers) args.push('--allow-worker')
  if (policy.addons) args.push('--allow-addons')
  return [...args, layout.childMain]
}

/** `bwrap … -- node …`: the namespaces and the filesystem view (layer 1). */
export function bwrapArgs(policy: SandboxPolicy, layout: SandboxLayout): string[] {
  const a = ['--unshare-all', '--die-with-parent', '--new-session', '--cap-drop', 'ALL', '--hostname', 'tributary-plugin']
  a.push('--ro-bind', '/usr', '/usr')
  // Merged-/usr systems link /lib, /bin… into /usr: the same links inside; real folders are bound.
  for (const top of ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']) {
    const st = lstatOrUndefined(top)
    if (st?.isSymbolicLink()) a.push('--symlink', readlinkSync(top), top)
    else if (st?.isDirectory()) a.push('--ro-bind', top, top)
  }
  a.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp')
  if (existsSync('/etc/localtime')) a.push('--ro-bind', realpathSync('/etc/localtime'), '/etc/localtime')
  const nodePrefix = path.dirname(path.dirname(realpathSync(layout.nodeBinary)))
  if (!nodePrefix.startsWith('/usr/') && nodePrefix !== '/usr') a.push('--ro-bind', nodePrefix, nodePrefix)
  for (const p of [path.join(layout.installRoot, 'dist'), path.join(layout.installRoot, 'node_modules'), path.join(layout.installRoot, 'package.json'), layout.codeDir]) a.push('--ro-bind', p, p)
  // Declared paths that do not exist are skipped (`-try`): there is nothing to read there yet.
  for (const p of policy.read.filter((r) => !policy.write.includes(r))) a.push('--ro-bind-try', p, p)
  for (const p of policy.write) a.push('--bind-try', p, p)
  a.push('--ro-bind', layout.proxySocket, layout.proxySocket)
  a.push('--chdir', layout.codeDir)
  return [...a, '--', layout.nodeBinary, ...nodeArgs(policy, layout)]
}

function lstatOrUndefined(p: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(p)
  } catch {
    return undefined
  }
}

/**
 * The folder of a plugin's code to make readable. An installed plugin lives in the store's
 * `node_modules`, where npm also hoists its dependencies and the `tributary` API link: that whole
 * folder (code only; the lockfile and tarballs stay out). A plain folder is itself.
 */
export function pluginCodeDir(dir: string): string {
  const real = realpathSync(dir)
  const parts = real.split(path.sep)
  const i = parts.lastIndexOf('node_modules')
  return i > 0 ? parts.slice(0, i + 1).join(path.sep) : real
}
