import { defineSource, parseDuration, type NatsConnectOptions, type SourceReader } from '../../core/plugin-api.js'
import { coreReader } from './core-reader.js'
import { jetStreamReader } from './jetstream-reader.js'

interface NatsSourceConfig extends NatsConnectOptions {
  subject?: string
  queue?: string
  stream?: string
  filterSubject?: string
  durable?: string
  deliverPolicy: 'all' | 'new' | 'last'
  ackWait: string
  maxAckPending: number
  format: 'json' | 'text'
  textField: string
  headersField?: string
  subjectField?: string
  batchSize: number
  bufferSize: number
}

export default defineSource<NatsSourceConfig>({
  async open(ctx) {
    const cfg = ctx.config
    const conn = await ctx.nats({ servers: cfg.servers, user: cfg.user, password: cfg.password, token: cfg.token, creds: cfg.creds })
    const item = { format: cfg.format, textField: cfg.textField, headersField: cfg.headersField, subjectField: cfg.subjectField }
    let reader: SourceReader
    try {
      reader = cfg.stream
        ? await jetStreamReader(conn.nc, ctx.logger, ctx.signal, {
            ...item,
            stream: cfg.stream,
            filterSubject: cfg.filterSubject,
            // Named from the pipeline and the stage: an edit that keeps the stage id keeps the position.
            durable: cfg.durable ?? `${ctx.pipeline}--${ctx.stageId}`,
            deliverPolicy: cfg.deliverPolicy,
            ackWaitMs: parseDuration(cfg.ackWait),
            maxAckPending: cfg.maxAckPending,
            batchSize: cfg.batchSize,
          })
        : coreReader(conn.nc, ctx.state, ctx.logger, ctx.signal, { ...item, subject: cfg.subject!, queue: cfg.queue, batchSize: cfg.batchSize, bufferSize: cfg.bufferSize })
    } catch (err) {
      await conn.close()
      throw err
    }
    return {
      read: () => reader.read(),
      async close() {
        try {
          await reader.close?.()
        } finally {
          await conn.close()
        }
      },
    }
  },
})
