import { BaseCommand } from '../../base-command.js'
import { fleetFlag } from '../../fleet-flag.js'
import { withNats } from '../../../core/app/with-nats.js'
import { listWorkers } from '../../../core/fleet/list.js'
import { formatTable } from '../../../core/app/format-table.js'
import type { WorkerSummary } from '../../../core/fleet/types.js'

export default class WorkersList extends BaseCommand<typeof WorkersList> {
  static override summary = "List the fleet's workers and what each runs"
  static override description = 'One row per worker that sent a heartbeat in the last two minutes: its state (`lost` when its heartbeat is overdue), host, pid, and the pipelines it runs with their revision and parts (`groups`, `source`, `stateful`; `(standby)` while another worker holds the lease).'
  static override examples = ['<%= config.bin %> workers list', '<%= config.bin %> workers list --fleet prod --json']
  static override enableJsonFlag = true
  static override flags = { fleet: fleetFlag }

  async run(): Promise<WorkerSummary[]> {
    const { flags } = await this.parse(WorkersList)
    const workers = await withNats({ home: this.home, nats: this.flags.nats }, (nc) => listWorkers(nc, flags.fleet))
    if (!this.jsonEnabled()) {
      if (workers.length === 0) this.log(`no workers in fleet ${flags.fleet}: start one with \`tributary worker --fleet ${flags.fleet}\``)
      else {
        const rows = workers.map((w) => ({ worker: w.id, state: w.state, host: w.host, pid: w.pid, since: w.startedAt, pipelines: w.pipelines.map((p) => `${p.name}@${p.revision} ${p.state} [${p.runs.join(', ')}]`).join('; ') }))
        this.log(formatTable(rows))
      }
    }
    return workers
  }
}
