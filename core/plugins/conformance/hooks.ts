import { TributaryError, errorMessage } from '../../errors.js'

/** Runs a hook with a deadline; the timer is cleared either way so it leaves no handle behind. */
export async function withDeadline<T>(what: string, ms: number, fn: () => T | Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      Promise.resolve().then(fn),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new HookTimeout(`${what} did not finish within ${ms} ms`)), ms)
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}

export class HookTimeout extends TributaryError {
  constructor(message: string) {
    super('E_PLUGIN', message)
    this.name = 'HookTimeout'
  }
}

export function describeError(err: unknown): string {
  return errorMessage(err).split('\n')[0]!
}

/** Why a value would not survive JSON (the wire format between stages), or undefined if it does. */
export function notJson(v: unknown, at = '$'): string | undefined {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return undefined
  if (typeof v === 'number') return Number.isFinite(v) ? undefined : `${at} is ${v} (JSON has no such number)`
  if (typeof v === 'bigint' || typeof v === 'function' || typeof v === 'symbol' || v === undefined) return `${at} is a ${typeof v}`
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const why = notJson(v[i], `${at}[${i}]`)
      if (why) return why
    }
    return undefined
  }
  const proto = Object.getPrototypeOf(v) as unknown
  if (proto !== Object.prototype && proto !== null) return `${at} is a ${(v as object).constructor?.name ?? 'class instance'}, not a plain object`
  for (const [k, x] of Object.entries(v as object)) {
    if (x === undefined) continue // dropped by JSON.stringify, harmless
    const why = notJson(x, `${at}.${k}`)
    if (why) return why
  }
  return undefined
}
