import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../base-command.js'
import { updatePlugins, type UpdateResult } from '../../../core/plugins/store/update.js'
import { consent, storeLog } from '../../plugin-consent.js'

export default class PluginsUpdate extends BaseCommand<typeof PluginsUpdate> {
  static override summary = 'Update installed community plugins'
  static override description = 'Plugins from npm move to the newest version their recorded range allows; plugins installed from a folder or tarball are installed again from that path. A new version that asks for more permissions is shown and must be accepted (--yes accepts). All updates happen in one step: one failure leaves every plugin as it was.'
  static override examples = ['<%= config.bin %> plugins update', '<%= config.bin %> plugins update geo-enrich --yes', '<%= config.bin %> plugins update --json']
  static override strict = false
  static override enableJsonFlag = true
  static override args = { name: Args.string({ description: 'Plugins to update (plugin or package names); all when omitted' }) }
  static override flags = { yes: Flags.boolean({ char: 'y', description: 'Accept new permissions without asking', default: false }) }

  async run(): Promise<UpdateResult[]> {
    const { argv, flags } = await this.parse(PluginsUpdate)
    const results = await updatePlugins(this.home, argv as string[], { confirm: consent(flags.yes), log: storeLog(this.flags.verbose) })
    if (!this.jsonEnabled()) {
      if (results.length === 0) this.log('no community plugins are installed')
      for (const r of results) this.log(r.changed ? `updated ${r.package} ${r.from} → ${r.to}` : `${r.package} ${r.from} is up to date`)
    }
    return results
  }
}
