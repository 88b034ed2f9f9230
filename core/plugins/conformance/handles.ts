/**
 * "close() releases resources": Node's list of active handles and requests (timers, sockets,
 * file handles, servers) is taken before the plugin opens and compared after it closed. What a
 * closed plugin leaves behind keeps a process from exiting and leaks over restarts.
 */
export type ResourceCounts = Map<string, number>

export function activeResources(): ResourceCounts {
  const counts: ResourceCounts = new Map()
  for (const r of process.getActiveResourcesInfo()) counts.set(r, (counts.get(r) ?? 0) + 1)
  return counts
}

/** Resources present now beyond `before`, e.g. `Timeout ×1`. */
export function surplus(before: ResourceCounts, now: ResourceCounts): string[] {
  const out: string[] = []
  for (const [k, n] of now) {
    const extra = n - (before.get(k) ?? 0)
    if (extra > 0) out.push(`${k} ×${extra}`)
  }
  return out
}

/** Waits (polling, up to `ms`) for resources to fall back to `before`: closing a socket or file completes asynchronously. */
export async function leftovers(before: ResourceCounts, ms = 2000): Promise<string[]> {
  const deadline = Date.now() + ms
  for (;;) {
    const extra = surplus(before, activeResources())
    if (extra.length === 0 || Date.now() >= deadline) return extra
    await new Promise<void>((resolve) => setImmediate(resolve))
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 20)
      t.unref()
    })
  }
}
