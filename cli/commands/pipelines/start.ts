import { Args } from '@oclif/core'
import { BaseCommand } from '../../base-command.js'
import { fleetFlag } from '../../fleet-flag.js'
import { withNats } from '../../../core/app/with-nats.js'
import { setDesiredState } from '../../../core/fleet/lifecycle.js'

export default class PipelinesStart extends BaseCommand<typeof PipelinesStart> {
  static override summary = 'Start a stopped pipeline again'
  static override description = "Marks the pipeline running in the fleet's KV bucket; workers start it at the deployed revision and resume from the saved positions and consumers."
  static override examples = ['<%= config.bin %> pipelines start orders', '<%= config.bin %> pipelines start orders --fleet prod --json']
  static override enableJsonFlag = true
  static override args = { name: Args.string({ description: 'Pipeline name', required: true }) }
  static override flags = { fleet: fleetFlag }

  async run(): Promise<object> {
    const { args, flags } = await this.parse(PipelinesStart)
    return withNats({ home: this.home, nats: this.flags.nats }, async (nc) => {
      const { deployment, changed } = await setDesiredState(nc, flags.fleet, args.name, 'running')
      if (!this.jsonEnabled()) this.log(changed ? `started ${args.name} (revision ${deployment.revision}): workers resume it` : `${args.name} was already running`)
      return { pipeline: args.name, fleet: flags.fleet, state: deployment.state, revision: deployment.revision, changed }
    })
  }
}
