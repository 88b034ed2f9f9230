import { Flags } from '@oclif/core'
import { BaseCommand } from '../base-command.js'
import { serverStatus, startUpServer } from '../../core/nats/local-server.js'
import { clusterStatus, startLocalCluster } from '../../core/nats/local-cluster.js'
import { TributaryError } from '../../core/errors.js'

export default class Up extends BaseCommand<typeof Up> {
  static override summary = 'Start a local nats-server with JetStream for this home'
  static override description = 'Starts nats-server -js on 127.0.0.1 with its store under <home>/nats, and leaves it running for later commands (`run`, `query`, …), which find it without flags. Without `up`, each command starts a private server for its own duration. `down` stops it. With --cluster N, starts N nodes routed into one JetStream cluster on loopback instead (for trying `replicas: 3` and `tributary worker`); commands of the home then connect to all of them, and `up --cluster N` again restarts the nodes that are down.'
  static override examples = ['<%= config.bin %> up', '<%= config.bin %> up --status --json', '<%= config.bin %> up --home /var/lib/tributary', '<%= config.bin %> up --cluster 3   # three nodes on loopback, for R3 streams and a fleet of workers']
  static override enableJsonFlag = true
  static override flags = {
    status: Flags.boolean({ description: 'Only report whether the server runs', default: false }),
    cluster: Flags.integer({ description: 'Start a local cluster of this many nodes (3 to 7) instead of one server', min: 3, max: 7 }),
  }

  async run(): Promise<object> {
    const { flags } = await this.parse(Up)
    if (flags.cluster !== undefined && !flags.status) {
      if ((await serverStatus(this.home)).running) throw new TributaryError('E_USAGE', 'this home already runs a single nats-server', { hint: 'stop it with `tributary down` first' })
      const c = await startLocalCluster(this.home, { size: flags.cluster })
      if (!this.jsonEnabled()) this.log(`nats cluster of ${c.nodes.length} nodes running: ${c.urls.join(',')}\n(e.g. NATS_URL=${c.urls.join(',')} for other homes)`)
      return c
    }
    if (flags.status) {
      const c = await clusterStatus(this.home)
      if (c && c.running.length > 0) {
        if (!this.jsonEnabled()) this.log(`nats cluster: ${c.running.length} of ${c.nodes.length} nodes running (${c.nodes.map((n) => `${n.name} ${c.running.includes(n.name) ? 'up' : 'down'} ${n.url}`).join(', ')})`)
        return { running: true, cluster: c }
      }
      const st = await serverStatus(this.home)
      if (!this.jsonEnabled()) this.log(st.running ? `nats-server running (${st.mode}) at ${st.url}, pid ${st.pid}` : 'nats-server is not running for this home')
      return st
    }
    const cluster = await clusterStatus(this.home)
    if (cluster && cluster.running.length > 0) {
      if (!this.jsonEnabled()) this.log(`this home runs a local nats cluster (${cluster.urls.join(',')}); \`up --cluster ${cluster.nodes.length}\` restarts nodes that are down`)
      return { running: true, cluster }
    }
    const st = await startUpServer(this.home)
    if (!this.jsonEnabled()) this.log(`nats-server running at ${st.url} (pid ${st.pid}); store in ${st.store}`)
    return st
  }
}
