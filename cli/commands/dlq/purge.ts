import { Args, Flags } from '@oclif/core'
import { createInterface } from 'node:readline/promises'
import { BaseCommand } from '../../base-command.js'
import { withNats } from '../../../core/app/with-nats.js'
import { readDeadRecords } from '../../../core/dlq/read.js'
import { purgeDeadRecords } from '../../../core/dlq/purge.js'
import { TributaryError } from '../../../core/errors.js'

export default class DlqPurge extends BaseCommand<typeof DlqPurge> {
  static override summary = 'Delete every dead record of a pipeline'
  static override description = 'Removes the messages on the pipeline’s dead-letter subject only; the data path is not touched. Asks first in a terminal; elsewhere needs --yes.'
  static override examples = ['<%= config.bin %> dlq purge orders', '<%= config.bin %> dlq purge orders --yes --json']
  static override enableJsonFlag = true
  static override args = { pipeline: Args.string({ description: 'Pipeline name', required: true }) }
  static override flags = { yes: Flags.boolean({ char: 'y', description: 'Do not ask for confirmation', default: false }) }

  async run(): Promise<{ pipeline: string; purged: number }> {
    const { args, flags } = await this.parse(DlqPurge)
    const purged = await withNats({ home: this.home, nats: this.flags.nats }, async (nc, where) => {
      if (!flags.yes) {
        const n = await (await readDeadRecords(nc, args.pipeline, where)).length
        if (n === 0) return 0
        if (!(await this.confirm(`Delete ${n} dead ${n === 1 ? 'record' : 'records'} of pipeline ${args.pipeline}? [y/N] `))) return 0
      }
      return purgeDeadRecords(nc, args.pipeline, where)
    })
    if (!this.jsonEnabled()) this.log(`purged ${purged} dead ${purged === 1 ? 'record' : 'records'} of pipeline ${args.pipeline}`)
    return { pipeline: args.pipeline, purged }
  }

  private async confirm(question: string): Promise<boolean> {
    if (!process.stdin.isTTY) throw new TributaryError('E_USAGE', 'dlq purge deletes records and needs a confirmation', { hint: 'pass --yes to purge without asking' })
    const rl = createInterface({ input: process.stdin, output: process.stderr })
    try {
      return /^y(es)?$/i.test((await rl.question(question)).trim())
    } finally {
      rl.close()
    }
  }
}
