import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../base-command.js'
import { fleetFlag } from '../../fleet-flag.js'
import { withNats } from '../../../core/app/with-nats.js'
import { openRegistry } from '../../../core/app/session.js'
import { deployPipeline, type DeployResult } from '../../../core/fleet/deploy.js'
import { emitPermissions, formatDeploy } from '../../../core/fleet/deploy-output.js'
import { checkFleetName } from '../../../core/fleet/names.js'

export default class PipelinesDeploy extends BaseCommand<typeof PipelinesDeploy> {
  static override summary = 'Deploy a pipeline to a fleet of workers (or roll it back)'
  static override description = `Validates the file (with this shell's environment, as a worker will load it), refuses what a fleet cannot run (embedded ClickHouse: in a fleet ClickHouse is a server, \`url\`), shows what changes against the running revision and on JetStream, then stores the file as the pipeline's next revision in the fleet's KV bucket. Workers (\`tributary worker\`) drain the old revision and start the new one; stages that keep their id keep their consumers and saved positions. Secrets stay \`\${env:…}\`/\`\${file:…}\` references, resolved by each worker; relative paths resolve against the file's folder, so workers need the same paths. Deploying the same file again changes nothing. --revision N deploys what revision N held, as a new revision (roll back). --emit-permissions prints the least-privilege NATS permissions of the pipeline and deploys nothing.`
  static override examples = [
    '<%= config.bin %> pipelines deploy orders.yaml',
    '<%= config.bin %> pipelines deploy orders.yaml --fleet prod --dry-run',
    '<%= config.bin %> pipelines deploy orders --revision 2',
    '<%= config.bin %> pipelines deploy orders.yaml --emit-permissions',
  ]
  static override enableJsonFlag = true
  static override args = { file: Args.string({ description: 'Pipeline file (YAML or JSON); with --revision, the pipeline name', required: true }) }
  static override flags = {
    fleet: fleetFlag,
    revision: Flags.integer({ description: 'Deploy the file of this earlier revision again (roll back)', min: 1 }),
    'dry-run': Flags.boolean({ description: 'Validate and show the changes; store nothing', default: false }),
    'emit-permissions': Flags.boolean({ description: 'Print the NATS permissions the pipeline needs (a nats-server user entry) and deploy nothing', default: false }),
  }

  async run(): Promise<DeployResult | object> {
    const { args, flags } = await this.parse(PipelinesDeploy)
    const fleet = checkFleetName(flags.fleet)
    if (flags['emit-permissions']) {
      const out = await emitPermissions(args.file, await openRegistry(this.home))
      if (!this.jsonEnabled()) this.log(out.config)
      return out
    }
    const registry = await openRegistry(this.home)
    const result = await withNats({ home: this.home, nats: this.flags.nats }, (nc) =>
      deployPipeline(nc, registry, { fleet, target: args.file, revision: flags.revision, env: process.env, dryRun: flags['dry-run'] }),
    )
    if (!this.jsonEnabled()) this.log(formatDeploy(result))
    return result
  }
}
