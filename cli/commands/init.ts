import { Args } from '@oclif/core'
import { BaseCommand } from '../base-command.js'
import { initProject } from '../../core/app/init-project.js'

export default class Init extends BaseCommand<typeof Init> {
  static override summary = 'Create a Tributary home and a starter pipeline'
  static override description = 'Creates the home folder (default ./.tributary) and, in DIR (default: here), a starter pipeline.yaml with its input events.ndjson. Existing files are kept.'
  static override examples = ['<%= config.bin %> init', '<%= config.bin %> init my-project --home my-project/.tributary']
  static override enableJsonFlag = true
  static override args = { dir: Args.string({ description: 'Folder for the starter pipeline', default: '.' }) }

  async run(): Promise<object> {
    const { args } = await this.parse(Init)
    const res = await initProject(this.home, args.dir)
    if (!this.jsonEnabled()) {
      this.log(`home: ${res.home}`)
      for (const f of res.created) this.log(`created ${f}`)
      for (const f of res.kept) this.log(`kept existing ${f}`)
      this.log(`next: tributary run ${args.dir === '.' ? '' : `${args.dir}/`}pipeline.yaml`)
    }
    return res
  }
}
