/**
 * Whether this host can run plugins in namespaces: bubblewrap installed, and the kernel lets this
 * user create user/network/mount/PID namespaces (containers and hardened kernels often do not).
 * Asked once per process, by actually creating them.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'

/** `bwrap`: its absolute path (the plugin's environment has no PATH to find it by). */
export type SandboxSupport = { ok: true; bwrap: string } | { ok: false; reason: string }

let probed: Promise<SandboxSupport> | undefined

export function probeSandbox(): Promise<SandboxSupport> {
  probed ??= new Promise((resolve) => {
    const bwrap = (process.env.PATH ?? '/usr/bin:/bin').split(path.delimiter).map((d) => path.join(d, 'bwrap')).find((f) => existsSync(f))
    if (!bwrap) return resolve({ ok: false, reason: 'bubblewrap (`bwrap`) is not installed' })
    const child = spawn(bwrap, ['--unshare-all', '--die-with-parent', '--cap-drop', 'ALL', '--ro-bind', '/', '/', '--', process.execPath, '-e', '0'], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', (err: NodeJS.ErrnoException) => {
      resolve({ ok: false, reason: err.code === 'ENOENT' ? 'bubblewrap (`bwrap`) is not installed' : `bubblewrap could not be started: ${err.message}` })
    })
    child.on('close', (code) => {
      if (code === 0) resolve({ ok: true, bwrap })
      else resolve({ ok: false, reason: `bubblewrap cannot create namespaces for this user here: ${stderr.trim().split('\n')[0] || `exit code ${String(code)}`}` })
    })
  })
  return probed
}
