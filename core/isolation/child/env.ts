/**
 * The plugin's environment: the host starts the process with only the declared variables, so
 * an undeclared one has no value to leak. Reading one still answers `undefined` (libraries probe
 * the environment all the time; throwing would break them), and is logged once per name with the
 * permission to declare, so a plugin that needs it says so.
 */

/** Variables Node itself looks at (module loader, fetch, colours of console output): not the plugin's doing. */
const NODE_READS = new Set(['WATCH_REPORT_DEPENDENCIES', 'UNDICI_NO_FG', 'JEST_WORKER_ID', 'TERM', 'FORCE_COLOR', 'NO_COLOR', 'COLORTERM', 'TMUX', 'CI', 'TEAMCITY_VERSION', 'TERM_PROGRAM', 'TZ'])

export function restrictEnv(declared: Record<string, string>, warn: (name: string) => void): void {
  const values = { ...declared }
  const warned = new Set<string>()
  const env = new Proxy(values, {
    get(target, key) {
      if (typeof key !== 'string' || Object.hasOwn(target, key)) return Reflect.get(target, key)
      if (!warned.has(key) && !NODE_READS.has(key) && !key.startsWith('NODE_') && !key.startsWith('UV_')) {
        warned.add(key)
        warn(key)
      }
      return undefined
    },
  })
  Object.defineProperty(process, 'env', { value: env, configurable: true, writable: true, enumerable: true })
}

export function undeclaredEnvMessage(name: string): string {
  return `permission denied: the environment variable ${name} needs "env": ["${name}"] in the plugin's permissions; the plugin sees no value`
}
