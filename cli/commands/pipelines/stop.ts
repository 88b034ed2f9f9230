import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../base-command.js'
import { fleetFlag } from '../../fleet-flag.js'
import { withNats } from '../../../core/app/with-nats.js'
import { setDesiredState, waitUntilDrained } from '../../../core/fleet/lifecycle.js'
import { parseDuration } from '../../../core/config/units.js'
import { TributaryError } from '../../../core/errors.js'

export default class PipelinesStop extends BaseCommand<typeof PipelinesStop> {
  static override summary = 'Stop a deployed pipeline: every worker drains it'
  static override description = "Marks the pipeline stopped in the fleet's KV bucket. Each worker drains its part — stops reading, finishes in-flight batches, flushes sinks, acks — and releases its leases; this command waits until all of them are done (--timeout), unless --no-wait. Nothing is lost: the stream keeps what arrives meanwhile for a source that can push (it is not read), and `pipelines start` resumes from the saved positions."
  static override examples = ['<%= config.bin %> pipelines stop orders', '<%= config.bin %> pipelines stop orders --fleet prod --no-wait']
  static override enableJsonFlag = true
  static override args = { name: Args.string({ description: 'Pipeline name', required: true }) }
  static override flags = {
    fleet: fleetFlag,
    wait: Flags.boolean({ description: 'Wait until every worker drained it', default: true, allowNo: true }),
    timeout: Flags.string({ description: 'How long to wait for the drain (a duration)', default: '2m' }),
  }

  async run(): Promise<object> {
    const { args, flags } = await this.parse(PipelinesStop)
    return withNats({ home: this.home, nats: this.flags.nats }, async (nc) => {
      const { deployment, changed } = await setDesiredState(nc, flags.fleet, args.name, 'stopped')
      const left = flags.wait ? await waitUntilDrained(nc, flags.fleet, args.name, parseDuration(flags.timeout)) : []
      if (left.length > 0) throw new TributaryError('E_FLEET', `pipeline ${args.name} is stopped in fleet ${flags.fleet}, but ${left.join(', ')} still drain it after ${flags.timeout}`, { hint: 'a sink may be slow or unreachable: see `tributary pipelines status` and the workers\' logs' })
      if (!this.jsonEnabled()) this.log(changed ? `stopped ${args.name} (revision ${deployment.revision})${flags.wait ? ': every worker drained it' : ''}` : `${args.name} was already stopped`)
      return { pipeline: args.name, fleet: flags.fleet, state: deployment.state, revision: deployment.revision, changed, drained: flags.wait }
    })
  }
}
