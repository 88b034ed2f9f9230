/**
 * Runs the user's own npm (from PATH), so their registry, scopes, auth, proxy and cache apply.
 * Flags that every store operation needs:
 * - `--ignore-scripts`: a package's install scripts would run before the user has seen and
 *   accepted its permissions; plugins ship built JS instead.
 * - `--install-links`: a `file:` folder is copied, not symlinked (FACTS).
 * - `--omit-lockfile-registry-resolved=false`: the lock records where each tarball came from.
 */
import { spawn } from 'node:child_process'
import { TributaryError } from '../../errors.js'
import type { StoreLog } from './types.js'

export const NPM_FLAGS = ['--ignore-scripts', '--install-links', '--no-audit', '--no-fund', '--omit-lockfile-registry-resolved=false', '--no-update-notifier']

export interface NpmResult {
  stdout: string
  stderr: string
}

/** `npm <args>` in `cwd`; a failure is a TributaryError quoting npm's own error lines. */
export function runNpm(args: string[], cwd: string, what: string, log?: StoreLog): Promise<NpmResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', args, { cwd, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
      log?.npmOutput?.(d.toString())
    })
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
      log?.npmOutput?.(d.toString())
    })
    child.on('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'ENOENT'
          ? new TributaryError('E_PLUGIN', 'npm was not found on the PATH; Tributary installs plugins with npm', { hint: 'install Node.js with npm, or add npm to the PATH' })
          : new TributaryError('E_PLUGIN', `could not start npm: ${err.message}`, { cause: err }),
      )
    })
    child.on('close', (code) => {
      if (code === 0) return resolve({ stdout, stderr })
      reject(new TributaryError('E_PLUGIN', `${what} failed: ${npmErrorSummary(stderr) || `npm exited with code ${String(code)}`}`, {
        hint: 'check the package name, its dependencies and your npm registry settings (`npm config get registry`); run again with --verbose to see npm\'s output',
      }))
    })
  })
}

/** npm's error lines, without its prefix and the log-file boilerplate: "404 Not Found - GET …". */
export function npmErrorSummary(stderr: string): string {
  const lines = stderr
    .split('\n')
    .filter((l) => /^npm (error|ERR!)/.test(l))
    .map((l) => l.replace(/^npm (error|ERR!)\s*/, '').trim())
    .filter((l) => l && !/^(\d{3}$|\d{3} +(Note that|tarball, folder)|A complete log of this run|code E|errno)/.test(l) && !l.includes('/_logs/'))
  return lines.slice(0, 2).join('; ')
}
