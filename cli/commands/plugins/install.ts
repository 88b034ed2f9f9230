import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../base-command.js'
import { installPlugin } from '../../../core/plugins/store/install.js'
import type { LockEntry } from '../../../core/plugins/store/types.js'
import { consent, storeLog } from '../../plugin-consent.js'

export default class PluginsInstall extends BaseCommand<typeof PluginsInstall> {
  static override summary = 'Install a community plugin from npm, a tarball or a folder'
  static override description = `Installs the package with your npm (your registry, scopes and auth apply) into <home>/plugins, checks its plugin.json and that its \`engine\` range includes this Tributary, shows the permissions it asks for and installs it once you accept them (--yes accepts; without a terminal, --yes is required). Records name, version, source and integrity in <home>/plugins/tributary-lock.json. Install scripts are not run: a plugin ships built JS. Any failure leaves the home as it was.`
  static override examples = [
    '<%= config.bin %> plugins install tributary-plugin-geo',
    '<%= config.bin %> plugins install tributary-plugin-geo@^1.2.0',
    '<%= config.bin %> plugins install ./geo-enrich-1.0.0.tgz --yes',
    '<%= config.bin %> plugins install ./my-plugin --yes',
  ]
  static override enableJsonFlag = true
  static override args = { source: Args.string({ description: 'npm package name (optionally @version or @range), a .tgz made by `npm pack`, or a plugin folder', required: true }) }
  static override flags = { yes: Flags.boolean({ char: 'y', description: 'Accept the permissions the plugin asks for without asking', default: false }) }

  async run(): Promise<LockEntry & { replaced?: string }> {
    const { args, flags } = await this.parse(PluginsInstall)
    const { installed, replaced } = await installPlugin(this.home, args.source, { confirm: consent(flags.yes), log: storeLog(this.flags.verbose) })
    if (!this.jsonEnabled()) {
      this.log(`installed ${installed.package} ${installed.version}${replaced ? ` (was ${replaced.version})` : ''}: ${installed.kind} plugin "${installed.name}"; use it as \`{ use: ${installed.name} }\``)
    }
    return { ...installed, ...(replaced ? { replaced: replaced.version } : {}) }
  }
}
