import { Args } from '@oclif/core'
import { BaseCommand } from '../../base-command.js'
import { withNats } from '../../../core/app/with-nats.js'
import { readAllFleetStatuses, readFleetStatus } from '../../../core/fleet/status.js'
import { fleetFlag } from '../../fleet-flag.js'
import { formatStatus } from '../../../core/status/format.js'
import type { PipelineStatus } from '../../../core/status/types.js'

export default class PipelinesStatus extends BaseCommand<typeof PipelinesStatus> {
  static override summary = 'Show how pipelines are doing: stages, lag, rates, dead letters, last error'
  static override description = `For each stage: records in and out since the runtime started, rates over the last few seconds, records dead-lettered, plugin errors; for each consuming stage, its durable's lag (pending, unacknowledged, age of the oldest unacknowledged message); the stream's size and dead-letter count; whether a runtime runs the pipeline, and its last error. Runtimes (\`run\`) publish a status document to the pipeline's state bucket every 2 seconds, so this also works after \`run\` exited: the state is then \`stopped\` with the last figures (\`lost\` for a runtime that stopped sending heartbeats without saying so, e.g. after kill -9). A pipeline deployed to the fleet (--fleet) also shows its revision, whether it should run, each worker's part (groups, source, stateful; standby while another holds the lease) and the lease holders — also before its stream exists. Without NAME: every pipeline on the NATS server and every pipeline the fleet deploys.`
  static override examples = [
    '<%= config.bin %> pipelines status orders',
    '<%= config.bin %> pipelines status orders --json',
    '<%= config.bin %> pipelines status',
    'NATS_URL=nats://127.0.0.1:4222 <%= config.bin %> pipelines status --json',
  ]
  static override enableJsonFlag = true
  static override args = { name: Args.string({ description: 'Pipeline name (default: every pipeline on the NATS server)' }) }
  static override flags = { fleet: fleetFlag }

  async run(): Promise<PipelineStatus | PipelineStatus[]> {
    const { args, flags } = await this.parse(PipelinesStatus)
    return withNats({ home: this.home, nats: this.flags.nats }, async (nc, where) => {
      if (args.name) {
        const s = await readFleetStatus(nc, flags.fleet, args.name, where)
        if (!this.jsonEnabled()) this.log(formatStatus(s))
        return s
      }
      const all = await readAllFleetStatuses(nc, flags.fleet, where)
      if (!this.jsonEnabled()) this.log(all.length ? all.map(formatStatus).join('\n\n') : `no pipelines on ${where}`)
      return all
    })
  }
}
