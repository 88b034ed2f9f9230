import { Flags } from '@oclif/core'
import { BaseCommand } from '../base-command.js'
import { serverStatus, startUpServer } from '../../core/nats/local-server.js'

export default class Up extends BaseCommand<typeof Up> {
  static override summary = 'Start a local nats-server with JetStream for this home'
  static override description = 'Starts nats-server -js on 127.0.0.1 with its store under <home>/nats, and leaves it running for later commands (`run`, `query`, …), which find it without flags. Without `up`, each command starts a private server for its own duration. `down` stops it.'
  static override examples = ['<%= config.bin %> up', '<%= config.bin %> up --status --json', '<%= config.bin %> up --home /var/lib/tributary']
  static override enableJsonFlag = true
  static override flags = { status: Flags.boolean({ description: 'Only report whether the server runs', default: false }) }

  async run(): Promise<object> {
    const { flags } = await this.parse(Up)
    if (flags.status) {
      const st = await serverStatus(this.home)
      if (!this.jsonEnabled()) this.log(st.running ? `nats-server running (${st.mode}) at ${st.url}, pid ${st.pid}` : 'nats-server is not running for this home')
      return st
    }
    const st = await startUpServer(this.home)
    if (!this.jsonEnabled()) this.log(`nats-server running at ${st.url} (pid ${st.pid}); store in ${st.store}`)
    return st
  }
}
