import { BaseCommand } from '../base-command.js'
import { stopServer } from '../../core/nats/local-server.js'

export default class Down extends BaseCommand<typeof Down> {
  static override summary = 'Stop the local nats-server of this home'
  static override description = 'Stops the server started by `up` (or a private server left by a crashed command). Data in the store stays; `up` or any command brings it back.'
  static override examples = ['<%= config.bin %> down']
  static override enableJsonFlag = true

  async run(): Promise<object> {
    const res = await stopServer(this.home)
    if (!this.jsonEnabled()) this.log(res.stopped ? `stopped nats-server (pid ${res.pid})` : 'no nats-server was running for this home')
    return res
  }
}
