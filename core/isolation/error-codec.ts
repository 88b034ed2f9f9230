/**
 * Errors crossing the process boundary. In the child, Node's refusals (`ERR_ACCESS_DENIED`,
 * `ERR_DLOPEN_DISABLED`) are reworded to name the manifest permission that is missing, since
 * Node's own message ("Access to this API has been restricted") does not say what to declare.
 */
import { TributaryError, type ErrorCode } from '../errors.js'
import type { SerializedError } from './types.js'

const NODE_PERMISSIONS: Record<string, (resource: string | undefined) => string> = {
  FileSystemRead: (r) => `reading ${r ?? 'this file'} needs "read": ["${r ?? '<path>'}"] in the plugin's permissions`,
  FileSystemWrite: (r) => `writing ${r ?? 'this file'} needs "write": ["${r ?? '<path>'}"] in the plugin's permissions`,
  ChildProcess: () => 'starting a child process needs "spawn": true in the plugin\'s permissions',
  WorkerThreads: () => 'starting a worker thread needs "workers": true in the plugin\'s permissions',
}

/** The message naming the missing permission for one of Node's permission errors, if it is one. */
export function permissionMessage(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const e = err as { code?: unknown; permission?: unknown; resource?: unknown }
  if (e.code === 'ERR_DLOPEN_DISABLED') return 'permission denied: loading a native addon needs "addons": true in the plugin\'s permissions'
  if (e.code !== 'ERR_ACCESS_DENIED') return undefined
  const say = NODE_PERMISSIONS[String(e.permission)]
  return say ? `permission denied: ${say(typeof e.resource === 'string' ? e.resource : undefined)}` : undefined
}

export function serializeError(err: unknown): SerializedError {
  const denied = permissionMessage(err)
  if (denied) return { name: 'TributaryError', message: denied, code: 'E_PERMISSION' }
  if (err instanceof Error) {
    const e = err as Error & { code?: unknown; hint?: unknown; unavailable?: unknown }
    return {
      name: e.name,
      message: e.message,
      ...(typeof e.code === 'string' ? { code: e.code } : {}),
      ...(typeof e.hint === 'string' ? { hint: e.hint } : {}),
      ...(e.unavailable === true ? { unavailable: true } : {}),
    }
  }
  return { name: 'Error', message: String(err) }
}

const TRIBUTARY_CODES = new Set<string>(['E_PERMISSION', 'E_PLUGIN', 'E_CLICKHOUSE', 'E_NATS', 'E_CONFIG', 'E_EXPR', 'E_STATE', 'E_BACKPRESSURE'])

/** Rebuilt on the other side: a TributaryError when it was one, otherwise an Error with the same code. */
export function deserializeError(s: SerializedError): Error {
  let err: Error
  if (s.code && TRIBUTARY_CODES.has(s.code)) err = new TributaryError(s.code as ErrorCode, s.message, s.hint ? { hint: s.hint } : {})
  else {
    err = new Error(s.message)
    err.name = s.name
    // NotConnectedError keeps its code, so the runtime retries with back-off as in process.
    if (s.code) Object.assign(err, { code: s.code })
  }
  if (s.unavailable) Object.assign(err, { unavailable: true })
  return err
}
