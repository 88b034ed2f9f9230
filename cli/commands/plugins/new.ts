import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../base-command.js'
import { scaffoldPlugin, type ScaffoldResult } from '../../../core/plugins/scaffold/scaffold.js'
import type { PluginKind } from '../../../core/plugin-api.js'

export default class PluginsNew extends BaseCommand<typeof PluginsNew> {
  static override summary = 'Write a new plugin package to start from'
  static override description = 'Writes a TypeScript plugin package — plugin.json, package.json, src/index.ts and its build in dist/, tsconfig, a test using the conformance kit, a README — that installs and runs as written: `tributary plugins install DIR` then `{ use: NAME }` in a pipeline. A new transform passes records through until configured. See docs/writing-plugins.md.'
  static override examples = [
    '<%= config.bin %> plugins new geo-enrich --kind transform',
    '<%= config.bin %> plugins new @acme/s3 --kind sink --dir ./tributary-s3',
    '<%= config.bin %> plugins new ticker --kind source --json',
  ]
  static override enableJsonFlag = true
  static override args = { name: Args.string({ description: 'Plugin and npm package name (lowercase letters, digits and -; an @scope/ may come first)', required: true }) }
  static override flags = {
    kind: Flags.string({ description: 'What the plugin is', options: ['source', 'transform', 'sink'], required: true }),
    dir: Flags.string({ description: 'Folder to write the package in (default: ./NAME); must be empty or missing' }),
  }

  async run(): Promise<ScaffoldResult> {
    const { args, flags } = await this.parse(PluginsNew)
    const res = await scaffoldPlugin(args.name, flags.kind as PluginKind, flags.dir)
    if (!this.jsonEnabled()) {
      this.log(`wrote ${res.kind} plugin ${res.name} in ${res.dir}:`)
      for (const f of res.files) this.log(`  ${f}`)
      this.log(`next: cd ${res.dir} && npm install && npm test; then \`tributary plugins install ${res.dir}\``)
    }
    return res
  }
}
