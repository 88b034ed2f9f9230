import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import { jetstreamManager } from '@nats-io/jetstream'
import { connectRaw, rawPublisher } from './baseline/raw-clients.js'
import { loadPipeline } from '../core/pipeline/load.js'
import { openRegistry } from '../core/app/session.js'
import { ensureStream } from '../core/jetstream/stream.js'
import { messageId, stageSubject } from '../core/jetstream/names.js'

/** Publishes every line of `input` to `subject` (outside any timed run), ids from `msgId(n)`. */
async function publishLines(natsUrl: string, input: string, subject: string, msgId: (n: number) => string, before: (nc: Awaited<ReturnType<typeof connectRaw>>) => Promise<void>): Promise<number> {
  const nc = await connectRaw(natsUrl)
  try {
    await before(nc)
    const pub = rawPublisher(nc)
    const enc = new TextEncoder()
    let n = 0
    for await (const line of createInterface({ input: createReadStream(input), crlfDelay: Infinity })) {
      if (line) await pub.publish(subject, enc.encode(line), msgId(++n))
    }
    await pub.drain()
    return n
  } finally {
    await nc.close()
  }
}

/**
 * Fills a pipeline's stream as its source would have: the pipeline's own stream config, the
 * source subject, the source's message ids (epoch 0, offsets 1..n).
 */
export async function preloadPipeline(natsUrl: string, pipelineFile: string, home: string, input: string): Promise<number> {
  const spec = await loadPipeline(pipelineFile, await openRegistry(home))
  return publishLines(natsUrl, input, stageSubject(spec.name, spec.source.id), (n) => messageId(spec.name, spec.source.id, 0, n), async (nc) => {
    await ensureStream(await jetstreamManager(nc), spec)
  })
}

/** Fills a baseline's stream (`bench.<stream>.in`). */
export async function preloadStream(natsUrl: string, stream: string, input: string): Promise<number> {
  return publishLines(natsUrl, input, `bench.${stream}.in`, String, async (nc) => {
    const jsm = await jetstreamManager(nc)
    await jsm.streams.add({ name: stream, subjects: [`bench.${stream}.>`], duplicate_window: 120_000_000_000 })
  })
}
