import { BaseCommand } from '../../base-command.js'
import { fleetFlag } from '../../fleet-flag.js'
import { withNats } from '../../../core/app/with-nats.js'
import { listDeployments } from '../../../core/fleet/list.js'
import { formatTable } from '../../../core/app/format-table.js'
import type { DeploymentSummary } from '../../../core/fleet/types.js'

export default class PipelinesList extends BaseCommand<typeof PipelinesList> {
  static override summary = 'List the pipelines deployed to a fleet'
  static override description = "One row per deployed pipeline: the revision the fleet runs, whether it should run or is stopped, how many live workers run a part of it, and who changed it last. `pipelines status` (without a name) covers every pipeline on the NATS server, `run` ones included."
  static override examples = ['<%= config.bin %> pipelines list', '<%= config.bin %> pipelines list --fleet prod --json']
  static override enableJsonFlag = true
  static override flags = { fleet: fleetFlag }

  async run(): Promise<DeploymentSummary[]> {
    const { flags } = await this.parse(PipelinesList)
    const list = await withNats({ home: this.home, nats: this.flags.nats }, (nc) => listDeployments(nc, flags.fleet))
    if (!this.jsonEnabled()) {
      this.log(list.length ? formatTable(list.map((d) => ({ name: d.name, revision: d.revision, state: d.state, workers: d.workers, updated: d.updatedAt, by: d.updatedBy }))) : `no pipelines deployed in fleet ${flags.fleet}`)
    }
    return list
  }
}
