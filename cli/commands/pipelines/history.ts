import { Args } from '@oclif/core'
import { BaseCommand } from '../../base-command.js'
import { fleetFlag } from '../../fleet-flag.js'
import { withNats } from '../../../core/app/with-nats.js'
import { pipelineHistory } from '../../../core/fleet/list.js'
import { formatTable } from '../../../core/app/format-table.js'
import type { HistoryEntry } from '../../../core/fleet/types.js'

export default class PipelinesHistory extends BaseCommand<typeof PipelinesHistory> {
  static override summary = "A deployed pipeline's revisions"
  static override description = 'Every stored revision, oldest first: when and by whom it was deployed, from which file, what it runs, and which one the fleet runs now. `pipelines deploy NAME --revision N` deploys an earlier one again.'
  static override examples = ['<%= config.bin %> pipelines history orders', '<%= config.bin %> pipelines history orders --fleet prod --json']
  static override enableJsonFlag = true
  static override args = { name: Args.string({ description: 'Pipeline name', required: true }) }
  static override flags = { fleet: fleetFlag }

  async run(): Promise<HistoryEntry[]> {
    const { args, flags } = await this.parse(PipelinesHistory)
    const h = await withNats({ home: this.home, nats: this.flags.nats }, (nc) => pipelineHistory(nc, flags.fleet, args.name))
    if (!this.jsonEnabled()) {
      this.log(formatTable(h.map((e) => ({ revision: e.revision, current: e.current ? '*' : '', deployed: e.deployedAt, by: e.deployedBy, pipeline: e.summary, note: e.rollbackOf ? `roll-back to ${e.rollbackOf}` : '', file: e.file }))))
    }
    return h
  }
}
