import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../base-command.js'
import { fleetFlag } from '../../fleet-flag.js'
import { withNats } from '../../../core/app/with-nats.js'
import { removePipeline, type RemoveResult } from '../../../core/fleet/remove.js'
import { parseDuration } from '../../../core/config/units.js'

export default class PipelinesRemove extends BaseCommand<typeof PipelinesRemove> {
  static override summary = 'Remove a pipeline from a fleet (and with --purge, its data)'
  static override description = "Deletes the deployment and its revisions from the fleet's KV bucket; workers drain the pipeline and stop, and this command waits for them (--timeout) and frees its leases. The stream (history, dead letters), consumers and the state bucket (saved positions) stay, so a later deploy resumes; --purge deletes them too, once no worker runs the pipeline."
  static override examples = ['<%= config.bin %> pipelines remove orders', '<%= config.bin %> pipelines remove orders --purge --fleet prod']
  static override enableJsonFlag = true
  static override args = { name: Args.string({ description: 'Pipeline name', required: true }) }
  static override flags = {
    fleet: fleetFlag,
    purge: Flags.boolean({ description: "Also delete the pipeline's stream (data, DLQ, consumers) and state bucket", default: false }),
    timeout: Flags.string({ description: 'How long to wait for the workers to drain it (a duration)', default: '2m' }),
  }

  async run(): Promise<RemoveResult> {
    const { args, flags } = await this.parse(PipelinesRemove)
    const r = await withNats({ home: this.home, nats: this.flags.nats }, (nc) => removePipeline(nc, flags.fleet, args.name, { purge: flags.purge, timeoutMs: parseDuration(flags.timeout) }))
    if (!this.jsonEnabled()) {
      const what = r.removed ? `removed ${r.pipeline} from fleet ${r.fleet}` : `${r.pipeline} was not deployed in fleet ${r.fleet}`
      const purged = r.purged ? `; deleted ${[r.purged.stream && 'its stream', r.purged.state && 'its state bucket'].filter(Boolean).join(' and ') || 'nothing (no stream or state bucket)'}` : '; its stream and state stay (--purge deletes them)'
      this.log(what + purged)
    }
    return r
  }
}
