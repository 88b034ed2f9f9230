import { createOffsetCounter, defineSource, parseDuration, type JsonObject, type SourceContext, type SourceItem } from '../../core/plugin-api.js'
import { Intake, type Received } from './intake.js'
import type { LineSink } from './line-splitter.js'
import { listenTcp, type TcpListener } from './tcp.js'
import { listenUdp, type UdpListener } from './udp.js'

interface SocketConfig {
  protocol: 'tcp' | 'udp'
  host: string
  port: number
  format: 'ndjson' | 'lines'
  field: string
  remoteField: string
  maxLineBytes: number
  maxBuffered: number
  batchSize: number
  statsInterval: string
  recvBufferSize: number
}

/** ctx.state key of the UDP counters, totals over every run of this stage. */
const STATS_KEY = 'stats'

export default defineSource<SocketConfig>({
  async open(ctx) {
    const cfg = ctx.config
    // Sockets cannot be re-read: offsets are never reused, across restarts too (blocks in KV).
    const offsets = createOffsetCounter(ctx.state)

    const sinkFor = (remote: string): LineSink => ({
      line(text) {
        if (text.trim() === '') return
        intake.push(toRecord(text, remote))
      },
      tooLong(head, bytes) {
        intake.push({ error: `a line of ${bytes} bytes from ${remote} is longer than maxLineBytes (${cfg.maxLineBytes})`, raw: head })
      },
    })
    const toRecord = (line: string, remote: string): Received => {
      const eventTime = Date.now()
      if (cfg.format === 'lines') {
        const value: JsonObject = { [cfg.field]: line }
        if (cfg.remoteField !== '') value[cfg.remoteField] = remote
        return { value, eventTime }
      }
      let v: unknown
      try {
        v = JSON.parse(line)
      } catch (err) {
        return { error: `not valid JSON from ${remote}: ${(err as Error).message}`, raw: line }
      }
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return { error: `a record must be a JSON object (from ${remote})`, raw: line }
      // The text is valid: publish it as is, no stringify.
      return { json: line, eventTime }
    }

    let tcp: TcpListener | undefined
    let udp: UdpListener | undefined
    const intake = new Intake(cfg.maxBuffered, () => tcp?.resume())
    const listen = { host: cfg.host, port: cfg.port, maxLineBytes: cfg.maxLineBytes, logger: ctx.logger, sinkFor, full: () => intake.full }
    let stopStats = async (): Promise<void> => undefined
    if (cfg.protocol === 'tcp') tcp = await listenTcp(listen)
    else {
      udp = await listenUdp({ ...listen, recvBufferSize: cfg.recvBufferSize })
      stopStats = reportUdp(udp, ctx, parseDuration(cfg.statsInterval))
    }
    ctx.logger.info({ protocol: cfg.protocol, host: cfg.host, port: (tcp ?? udp)!.port, format: cfg.format }, 'socket source listening')

    return {
      async read() {
        await intake.ready(ctx.signal)
        if (ctx.signal.aborted) return { items: [] }
        const n = Math.min(intake.waiting, cfg.batchSize)
        const first = await offsets.take(n)
        const taken = intake.take(n)
        const items: SourceItem[] = new Array(taken.length)
        for (let i = 0; i < taken.length; i++) items[i] = { ...taken[i]!, offset: first + i }
        // The batch's records count against maxBuffered until JetStream has them.
        return { items, settled: () => intake.settle(taken.length) }
      },
      async close() {
        await tcp?.close()
        await udp?.close()
        await stopStats()
      },
    }
  },
})

/**
 * UDP drops are counted (there is no metrics API yet): logged every `everyMs` when there were
 * new ones, and the totals over every run saved in KV under `<stage>.stats`.
 */
function reportUdp(udp: UdpListener, ctx: Pick<SourceContext<unknown>, 'state' | 'logger'>, everyMs: number): () => Promise<void> {
  const base = ctx.state.get(STATS_KEY).then((v) => {
    const s = v as { received?: unknown; dropped?: unknown } | undefined
    return { received: typeof s?.received === 'number' ? s.received : 0, dropped: typeof s?.dropped === 'number' ? s.dropped : 0 }
  })
  base.catch(() => undefined) // reported by the first save
  let reported = { received: 0, dropped: 0 }
  let saving = Promise.resolve()
  const report = (): Promise<void> => {
    const now = { ...udp.counters }
    if (now.received === reported.received && now.dropped === reported.dropped) return saving
    const newDrops = now.dropped - reported.dropped
    reported = now
    saving = saving
      .then(async () => {
        const b = await base
        const totals = { received: b.received + now.received, dropped: b.dropped + now.dropped }
        if (newDrops > 0) ctx.logger.warn({ dropped: newDrops, droppedTotal: totals.dropped, received: totals.received }, 'udp datagrams dropped: the pipeline was full')
        await ctx.state.put(STATS_KEY, totals)
      })
      .catch((err: unknown) => ctx.logger.error({ err: (err as Error).message }, 'could not save the udp counters'))
    return saving
  }
  const timer = setInterval(() => void report(), everyMs)
  timer.unref()
  return async () => {
    clearInterval(timer)
    await report()
  }
}
