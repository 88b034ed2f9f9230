import { TributaryError } from '../errors.js'

/**
 * An isolated plugin crashed `restarts` times in a row: its stage stops (its inputs stay in the
 * stream, unacknowledged) while the rest of the runtime goes on. The runtime and the group runner
 * recognise it by its code and do not retry or dead-letter on it.
 */
export class StageStoppedError extends TributaryError {
  constructor(
    readonly stage: string,
    message: string,
    cause?: unknown,
  ) {
    super('E_STAGE_STOPPED', message, { hint: 'fix the plugin (or its permissions) and restart the pipeline: the stage\'s inputs wait in the stream, unacknowledged', cause })
    this.name = 'StageStoppedError'
  }
}

export function isStageStopped(err: unknown): err is StageStoppedError {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'E_STAGE_STOPPED'
}
