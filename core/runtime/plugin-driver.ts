import { TributaryError, errorMessage } from '../errors.js'
import type { StageSpec } from '../pipeline/types.js'

/**
 * Every call into plugin code goes through here, so an error thrown inside a plugin comes out
 * naming the plugin, its kind, the stage and the hook (Rollup's plugin driver).
 */
export async function callHook<T>(stage: StageSpec, hook: string, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    throw wrapPluginError(stage, hook, err)
  }
}

export function wrapPluginError(stage: StageSpec, hook: string, err: unknown): Error {
  if (err instanceof TributaryError && err.message.startsWith('plugin "')) return err
  if (err instanceof Error && (err as { code?: unknown }).code === 'E_NOT_CONNECTED') return err
  const code = err instanceof TributaryError ? err.code : 'E_PLUGIN'
  return new TributaryError(code, `plugin "${stage.use}" (${stage.kind}, stage ${stage.id}) failed in ${hook}(): ${errorMessage(err)}`, {
    hint: err instanceof TributaryError ? err.hint : undefined,
    cause: err,
  })
}
