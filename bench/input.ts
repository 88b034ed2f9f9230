import { createWriteStream } from 'node:fs'
import { once } from 'node:events'

const NAMES = ['alpha', 'beta', 'gamma', 'delta']

/** The bench's record: ~130 bytes of JSON, as in FACTS' measurements. */
export function inputLine(i: number): string {
  return JSON.stringify({ id: i, name: NAMES[i % 4], value: value(i), country: 'FR', ts: new Date(1_790_000_000_000 + i).toISOString() })
}

function value(i: number): number {
  return ((i * 37) % 250) + (i % 3 === 0 ? 0.5 : 0)
}

/** Records 1..n as NDJSON; returns the bytes written and how many pass `value > 100`. */
export async function writeInput(file: string, n: number): Promise<{ bytes: number; passing: number }> {
  const out = createWriteStream(file)
  let bytes = 0
  let passing = 0
  let chunk = ''
  for (let i = 1; i <= n; i++) {
    chunk += inputLine(i) + '\n'
    if (value(i) > 100) passing++
    if (chunk.length > 1 << 20 || i === n) {
      bytes += Buffer.byteLength(chunk)
      if (!out.write(chunk)) await once(out, 'drain')
      chunk = ''
    }
  }
  out.end()
  await once(out, 'finish')
  return { bytes, passing }
}
