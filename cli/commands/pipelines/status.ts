import { Args } from '@oclif/core'
import { BaseCommand } from '../../base-command.js'
import { withNats } from '../../../core/app/with-nats.js'
import { readAllStatuses, readPipelineStatus } from '../../../core/status/read-status.js'
import { formatStatus } from '../../../core/status/format.js'
import type { PipelineStatus } from '../../../core/status/types.js'

export default class PipelinesStatus extends BaseCommand<typeof PipelinesStatus> {
  static override summary = 'Show how pipelines are doing: stages, lag, rates, dead letters, last error'
  static override description = `For each stage: records in and out since the runtime started, rates over the last few seconds, records dead-lettered, plugin errors; for each consuming stage, its durable's lag (pending, unacknowledged, age of the oldest unacknowledged message); the stream's size and dead-letter count; whether a runtime runs the pipeline, and its last error. Runtimes (\`run\`) publish a status document to the pipeline's state bucket every 2 seconds, so this also works after \`run\` exited: the state is then \`stopped\` with the last figures (\`lost\` for a runtime that stopped sending heartbeats without saying so, e.g. after kill -9). Without NAME: every pipeline on the NATS server.`
  static override examples = [
    '<%= config.bin %> pipelines status orders',
    '<%= config.bin %> pipelines status orders --json',
    '<%= config.bin %> pipelines status',
    'NATS_URL=nats://127.0.0.1:4222 <%= config.bin %> pipelines status --json',
  ]
  static override enableJsonFlag = true
  static override args = { name: Args.string({ description: 'Pipeline name (default: every pipeline on the NATS server)' }) }

  async run(): Promise<PipelineStatus | PipelineStatus[]> {
    const { args } = await this.parse(PipelinesStatus)
    return withNats({ home: this.home, nats: this.flags.nats }, async (nc, where) => {
      if (args.name) {
        const s = await readPipelineStatus(nc, args.name, where)
        if (!this.jsonEnabled()) this.log(formatStatus(s))
        return s
      }
      const all = await readAllStatuses(nc, where)
      if (!this.jsonEnabled()) this.log(all.length ? all.map(formatStatus).join('\n\n') : `no pipelines on ${where}`)
      return all
    })
  }
}
