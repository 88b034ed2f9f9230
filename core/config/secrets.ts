/**
 * Secret references in config strings: `${env:NAME}` and `${file:path}`, as the whole string or
 * inside it (`nats://app:${env:NATS_PASS}@host`). Files are relative to the pipeline's folder and
 * lose one trailing newline (editors add it; a password never ends with one). `$${` writes a
 * literal `${`. No message ever contains a resolved value.
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import type { JsonPath, PathIssue } from './json-path.js'

export interface SecretOptions {
  /** Folder that `${file:...}` paths are relative to. */
  baseDir: string
  env: NodeJS.ProcessEnv
}

export interface ResolvedSecrets<T> {
  /** A copy of the input with every reference replaced (unresolvable ones are left as written). */
  value: T
  /** Every non-empty resolved value, so logs can redact them. */
  secrets: string[]
  /** One per reference that could not be resolved, at the path of its string. */
  issues: PathIssue[]
}

// `$${...}` (escaped) or `${...}` (a reference); group 1 is the extra `$`, group 2 the body.
const REFERENCE = /\$(\$?)\{([^}]*)\}/g
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

export async function resolveSecrets<T>(input: T, opts: SecretOptions): Promise<ResolvedSecrets<T>> {
  const secrets = new Set<string>()
  const issues: PathIssue[] = []
  const files = new Map<string, Promise<string>>()
  const readOnce = (abs: string): Promise<string> => {
    let p = files.get(abs)
    if (!p) files.set(abs, (p = readFile(abs, 'utf8')))
    return p
  }

  const resolveString = async (s: string, at: JsonPath): Promise<string> => {
    if (!s.includes('${')) return s
    const parts: string[] = []
    let last = 0
    for (const m of s.matchAll(REFERENCE)) {
      parts.push(s.slice(last, m.index))
      last = m.index + m[0].length
      const [whole, escaped, body] = [m[0], m[1], m[2]!]
      if (escaped) {
        parts.push(whole.slice(1))
        continue
      }
      const r = await resolveOne(body, at)
      if (r === undefined) parts.push(whole)
      else {
        if (r !== '') secrets.add(r)
        parts.push(r)
      }
    }
    parts.push(s.slice(last))
    return parts.join('')
  }

  const resolveOne = async (body: string, at: JsonPath): Promise<string | undefined> => {
    const colon = body.indexOf(':')
    const scheme = colon < 0 ? '' : body.slice(0, colon)
    const arg = colon < 0 ? body : body.slice(colon + 1)
    if (scheme === 'env') {
      if (!ENV_NAME.test(arg)) {
        issues.push({ at, message: `\${env:${arg}} is not a valid environment variable name; use letters, digits and _, not starting with a digit` })
        return undefined
      }
      const v = opts.env[arg]
      if (v === undefined) {
        issues.push({ at, message: `environment variable ${arg} is not set (referenced as \${env:${arg}}); set it before running, e.g. \`export ${arg}=...\`` })
      }
      return v
    }
    if (scheme === 'file') {
      if (arg === '') {
        issues.push({ at, message: '${file:} names no file; write ${file:path/to/secret}, relative to the pipeline file' })
        return undefined
      }
      const abs = path.resolve(opts.baseDir, arg)
      try {
        return (await readOnce(abs)).replace(/\r?\n$/, '')
      } catch (err) {
        issues.push({ at, message: `cannot read ${abs} (referenced as \${file:${arg}}): ${reason(err)}; create the file or fix the path (it is relative to the pipeline file)` })
        return undefined
      }
    }
    issues.push({
      at,
      message: `\${${body}} is not a reference Tributary knows; write \${env:NAME} or \${file:path}, or $\${...} for a literal "\${"`,
      suggestion: ENV_NAME.test(body) ? `\${env:${body}}` : undefined,
    })
    return undefined
  }

  const walk = async (v: unknown, at: (string | number)[]): Promise<unknown> => {
    if (typeof v === 'string') return resolveString(v, at)
    if (Array.isArray(v)) return Promise.all(v.map((x, i) => walk(x, [...at, i])))
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {}
      for (const [k, x] of Object.entries(v)) out[k] = await walk(x, [...at, k])
      return out
    }
    return v
  }

  const value = (await walk(input, [])) as T
  return { value, secrets: [...secrets], issues }
}

function reason(err: unknown): string {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 'no such file'
    case 'EACCES':
    case 'EPERM':
      return 'permission denied'
    case 'EISDIR':
      return 'it is a folder'
    default:
      return (err as Error).message
  }
}
