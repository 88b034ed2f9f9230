import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../base-command.js'
import { openRegistry } from '../../../core/app/session.js'
import { renderPluginDocs } from '../../../core/plugins/docs.js'
import { TributaryError } from '../../../core/errors.js'
import type { PluginKind } from '../../../core/plugin-api.js'

export default class PluginsInspect extends BaseCommand<typeof PluginsInspect> {
  static override summary = "Show a plugin's manifest and configuration as docs"
  static override examples = ['<%= config.bin %> plugins inspect filter', '<%= config.bin %> plugins inspect file --kind sink', '<%= config.bin %> plugins inspect clickhouse --json']
  static override enableJsonFlag = true
  static override args = { name: Args.string({ description: 'Plugin name', required: true }) }
  static override flags = { kind: Flags.string({ description: 'source, transform or sink (when a name exists for several kinds)', options: ['source', 'transform', 'sink'] }) }

  async run(): Promise<object> {
    const { args, flags } = await this.parse(PluginsInspect)
    const registry = await openRegistry(this.home)
    const matches = registry.list().filter((p) => p.manifest.name === args.name && (!flags.kind || p.manifest.kind === (flags.kind as PluginKind)))
    if (matches.length === 0) {
      throw new TributaryError('E_USAGE', `no plugin named "${args.name}"${flags.kind ? ` of kind ${flags.kind}` : ''}`, { hint: 'run `tributary plugins list` to see the plugins' })
    }
    if (!this.jsonEnabled()) this.log(matches.map((p) => renderPluginDocs(p.manifest)).join('\n'))
    return matches.length === 1 ? { ...matches[0]!.manifest, builtin: matches[0]!.builtin } : matches.map((p) => ({ ...p.manifest, builtin: p.builtin }))
  }
}
