import { Flags } from '@oclif/core'
import { BaseCommand } from '../base-command.js'
import { fleetFlag } from '../fleet-flag.js'
import { runWorker } from '../../core/fleet/worker/run-worker.js'

export default class Worker extends BaseCommand<typeof Worker> {
  static override summary = 'Run a fleet worker: its share of every pipeline deployed to the fleet'
  static override description = `Watches the fleet's deployments (\`pipelines deploy\`) and runs its share of each: consuming stages on shared durables on every worker; a source that must not read twice (file, generate, http-poll, sql-poll…) on one worker at a time under a lease, taken over by another worker — resuming from the saved position — when that one goes; \`http\` and \`socket\` sources on every worker; stateful stages on one worker under a lease. Reacts to deploys, stops and removals without a restart, and sends a heartbeat (\`workers list\`). NATS is found as for every command (--nats, NATS_URL, the \`up\` server); a pipeline whose file has a \`nats\` block runs on its own connection with those credentials, resolved from this worker's environment. SIGINT/SIGTERM drains every pipeline and releases the leases; a second signal exits at once.`
  static override examples = [
    'NATS_URL=nats://10.0.0.5:4222 <%= config.bin %> worker',
    'NATS_URL=nats://n1:4222,nats://n2:4222,nats://n3:4222 TRIBUTARY_HOME=/var/lib/tributary <%= config.bin %> worker --fleet prod',
    '<%= config.bin %> worker --fleet staging --lease-ttl 10s',
  ]
  static override flags = {
    fleet: fleetFlag,
    id: Flags.string({ description: 'Worker id in heartbeats and leases (default <host>-<pid>)' }),
    heartbeat: Flags.string({ description: 'Heartbeat period (a duration)', default: '2s' }),
    'lease-ttl': Flags.string({ description: "TTL of the fleet's leases, when this worker creates the lease bucket (an existing bucket keeps its own): a source of a worker that vanished moves after at most this long", default: '15s' }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Worker)
    await runWorker({ home: this.home, nats: this.flags.nats, fleet: flags.fleet, id: flags.id, heartbeat: flags.heartbeat, leaseTtl: flags['lease-ttl'], handleSignals: true })
  }
}
