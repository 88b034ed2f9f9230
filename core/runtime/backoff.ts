/** Exponential back-off with jitter: 250 ms doubling to 30 s. */
export function backoffDelay(attempt: number, baseMs = 250, maxMs = 30_000): number {
  const d = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 16))
  return Math.round(d / 2 + Math.random() * (d / 2))
}

/** Resolves after `ms`, or at once when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const t = setTimeout(done, ms)
    function done(): void {
      clearTimeout(t)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}
