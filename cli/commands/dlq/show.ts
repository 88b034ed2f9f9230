import { Args } from '@oclif/core'
import { BaseCommand } from '../../base-command.js'
import { withNats } from '../../../core/app/with-nats.js'
import { getDeadRecord } from '../../../core/dlq/read.js'
import { publicEntry } from '../../../core/dlq/entry.js'
import { formatEntry } from '../../../core/dlq/format.js'
import type { DlqEntry } from '../../../core/dlq/types.js'

export default class DlqShow extends BaseCommand<typeof DlqShow> {
  static override summary = 'Show one dead record in full'
  static override examples = ['<%= config.bin %> dlq show orders 1042', '<%= config.bin %> dlq show orders 1042 --json']
  static override enableJsonFlag = true
  static override args = {
    pipeline: Args.string({ description: 'Pipeline name', required: true }),
    seq: Args.integer({ description: 'Sequence of the entry (the `seq` column of `dlq list`)', required: true, min: 1 }),
  }

  async run(): Promise<DlqEntry> {
    const { args } = await this.parse(DlqShow)
    const entry = await withNats({ home: this.home, nats: this.flags.nats }, async (nc, where) => publicEntry(await getDeadRecord(nc, args.pipeline, args.seq, where)))
    if (!this.jsonEnabled()) this.log(formatEntry(entry))
    return entry
  }
}
