import type { NatsConnection } from '@nats-io/nats-core'
import { readAllStatuses, readPipelineStatus } from './read-status.js'
import { formatTop } from './format.js'

export interface TopOptions {
  nc: NatsConnection
  where: string
  /** One pipeline, or every pipeline on the server. */
  pipeline?: string
  intervalMs: number
  /** One frame, then return. */
  once: boolean
  /** Draws a frame (the caller clears the screen on a TTY). */
  draw(frame: string): void
  signal: AbortSignal
}

/** `top`'s loop: read the status of the pipelines, draw, wait, until aborted (or once). */
export async function runTop(opts: TopOptions): Promise<void> {
  while (!opts.signal.aborted) {
    const statuses = opts.pipeline ? [await readPipelineStatus(opts.nc, opts.pipeline, opts.where)] : await readAllStatuses(opts.nc, opts.where)
    opts.draw(formatTop(statuses, new Date(), opts.intervalMs))
    if (opts.once) return
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, opts.intervalMs)
      opts.signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true })
    })
  }
}
