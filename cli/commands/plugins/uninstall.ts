import { Args } from '@oclif/core'
import { BaseCommand } from '../../base-command.js'
import { uninstallPlugin } from '../../../core/plugins/store/uninstall.js'
import type { LockEntry } from '../../../core/plugins/store/types.js'
import { storeLog } from '../../plugin-consent.js'

export default class PluginsUninstall extends BaseCommand<typeof PluginsUninstall> {
  static override summary = 'Remove an installed community plugin'
  static override description = 'Removes the package from <home>/plugins and its entry from tributary-lock.json, in one step that leaves the home unchanged if it fails. Pipelines that use the plugin no longer validate.'
  static override examples = ['<%= config.bin %> plugins uninstall geo-enrich', '<%= config.bin %> plugins uninstall @acme/tributary-s3 --json']
  static override enableJsonFlag = true
  static override args = { name: Args.string({ description: 'Plugin name (as in `use:`) or npm package name', required: true }) }

  async run(): Promise<LockEntry> {
    const { args } = await this.parse(PluginsUninstall)
    const removed = await uninstallPlugin(this.home, args.name, storeLog(this.flags.verbose))
    if (!this.jsonEnabled()) this.log(`uninstalled ${removed.package} ${removed.version} (${removed.kind} plugin "${removed.name}")`)
    return removed
  }
}
