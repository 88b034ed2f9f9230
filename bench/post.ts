import { readFile } from 'node:fs/promises'

/**
 * Posts the NDJSON file in batches of `batch` lines, `concurrency` requests at a time, as a fleet
 * of HTTP producers would. A 503 (the stream is full) is retried after its Retry-After; any
 * other failure stops the bench.
 */
export async function postBatches(url: string, input: string, batch = 1000, concurrency = 4): Promise<void> {
  const lines = (await readFile(input, 'utf8')).split('\n').filter(Boolean)
  const bodies: string[] = []
  for (let i = 0; i < lines.length; i += batch) bodies.push(lines.slice(i, i + batch).join('\n') + '\n')
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < bodies.length) {
      const body = bodies[next++]!
      for (;;) {
        const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/x-ndjson' } })
        await res.arrayBuffer()
        if (res.status === 200 || res.status === 202) break
        if (res.status !== 503) throw new Error(`POST ${url} answered ${res.status}`)
        await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? 1) * 1000))
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}
