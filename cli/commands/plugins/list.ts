import { BaseCommand } from '../../base-command.js'
import { openRegistry } from '../../../core/app/session.js'
import { formatTable } from '../../../core/app/format-table.js'

export default class PluginsList extends BaseCommand<typeof PluginsList> {
  static override summary = 'List the plugins Tributary can use'
  static override examples = ['<%= config.bin %> plugins list', '<%= config.bin %> plugins list --json']
  static override enableJsonFlag = true

  async run(): Promise<object[]> {
    const registry = await openRegistry(this.home)
    const list = registry.list().map((p) => ({
      name: p.manifest.name,
      kind: p.manifest.kind,
      version: p.manifest.version,
      origin: p.builtin ? 'builtin' : 'community',
      description: p.manifest.description,
      permissions: p.manifest.permissions ?? {},
    }))
    if (!this.jsonEnabled()) this.log(formatTable(list.map(({ permissions: _p, ...rest }) => ({ ...rest, description: rest.description.split('. ')[0]! }))))
    return list
  }
}
