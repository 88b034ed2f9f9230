import { defineSink } from '../../core/plugin-api.js'
import { pushSettings, type PushConfig } from './config.js'
import { History } from './history.js'
import { Channel } from './channel.js'
import { pushMeters } from './meters.js'
import { channelHandler } from './http.js'
import { listenOwn, type OwnServer } from './own-server.js'

/** How long close() waits for clients to be offered the last records written, then to receive them. */
const SETTLE_MS = 5000
const GOODBYE_MS = 2000

export default defineSink<PushConfig>({
  async open(ctx) {
    const s = pushSettings(ctx.config, ctx.pipeline, ctx.stageId)
    const log = ctx.logger
    const meters = pushMeters(ctx.metrics)
    const prefix = `/push/${s.channel}`
    // Fail before connecting anything when there is nowhere to serve the channel.
    if (!s.listen && ctx.http.url === undefined) {
      throw new Error(`channel ${s.channel} needs an HTTP port: the runtime serves none. Set \`metrics: { port: 9464 }\` in the pipeline file (or run with --metrics-port), or give the sink a \`port\` of its own`)
    }
    const conn = await ctx.nats()
    const cleanup: (() => Promise<void> | void)[] = [() => conn.close()]
    const undo = async (): Promise<void> => {
      for (const c of cleanup.reverse()) await Promise.resolve(c()).catch(() => undefined)
      cleanup.length = 0
    }
    try {
      const history = await History.open(conn.nc, s.history, s.timeoutMs, log)
      const { first, last, messages } = await history.bounds()
      // Fill the ring with the newest records of the history before serving anyone.
      const from = messages > 0 ? Math.max(first, last - s.ring + 1) : last + 1
      const channel = new Channel(s.ring, from - 1, history, { resumed: meters.resumed, lost: meters.lost }, log)
      const follower = await history.follow(from, (e) => channel.deliver(e))
      cleanup.push(() => follower.stop())
      if (!(await channel.reached(last, 30_000))) throw new Error(`could not read the channel's history ${s.history.stream} up to ${last} within 30 s`)

      const handler = channelHandler({ settings: s, channel, expressions: ctx.expressions, meters, logger: log })
      cleanup.push(() => handler.close())
      let own: OwnServer | undefined
      if (s.listen) {
        own = await listenOwn(s.listen, prefix, handler)
        cleanup.push(() => own!.close())
      } else {
        const unroute = ctx.http.route(prefix, handler)
        cleanup.push(unroute)
      }
      const url = `${own?.url ?? ctx.http.url}${prefix}`
      const heartbeat = setInterval(() => channel.heartbeat(), s.heartbeatMs)
      heartbeat.unref()
      cleanup.push(() => clearInterval(heartbeat))
      log.info({ channel: s.channel, url, view: `${url}/view`, history: s.history.stream, teams: [...s.teams.values()], policy: s.policy, buffer: s.buffer, resumeFromPosition: last + 1 }, `push channel ${s.channel} serving at ${url}`)

      return {
        batching: { rows: 1000, bytes: 4 << 20, maxWaitMs: 50 },
        write: (batch) => history.append(batch),
        async close() {
          // Clients get what the pipeline wrote before it stopped, then a clean end of stream.
          if (!(await channel.reached(history.stored, SETTLE_MS))) {
            log.warn({ channel: s.channel, stored: history.stored, offered: channel.liveSeq }, 'push: closing before clients were offered every record (they can resume with Last-Event-ID)')
          }
          await channel.close(GOODBYE_MS)
          await undo()
        },
      }
    } catch (err) {
      await undo()
      throw err
    }
  },
})
