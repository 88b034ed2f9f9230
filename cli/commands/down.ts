import { BaseCommand } from '../base-command.js'
import { stopServer } from '../../core/nats/local-server.js'
import { stopLocalCluster } from '../../core/nats/local-cluster.js'

export default class Down extends BaseCommand<typeof Down> {
  static override summary = 'Stop the local nats-server of this home'
  static override description = 'Stops the server started by `up` (or a private server left by a crashed command), and the nodes of `up --cluster`. Data in the store stays; `up` or any command brings it back.'
  static override examples = ['<%= config.bin %> down']
  static override enableJsonFlag = true

  async run(): Promise<object> {
    const res = await stopServer(this.home)
    const cluster = await stopLocalCluster(this.home)
    if (!this.jsonEnabled()) {
      if (res.stopped) this.log(`stopped nats-server (pid ${res.pid})`)
      if (cluster.stopped.length) this.log(`stopped the local nats cluster (${cluster.stopped.join(', ')})`)
      if (!res.stopped && !cluster.stopped.length) this.log('no nats-server was running for this home')
    }
    return { ...res, cluster: cluster.stopped }
  }
}
