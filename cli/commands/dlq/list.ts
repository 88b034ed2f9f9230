import { Args } from '@oclif/core'
import { BaseCommand } from '../../base-command.js'
import { withNats } from '../../../core/app/with-nats.js'
import { formatTable } from '../../../core/app/format-table.js'
import { readDeadRecords } from '../../../core/dlq/read.js'
import { publicEntry } from '../../../core/dlq/entry.js'
import { dlqRows } from '../../../core/dlq/format.js'
import type { DlqEntry } from '../../../core/dlq/types.js'

export default class DlqList extends BaseCommand<typeof DlqList> {
  static override summary = 'List the outstanding dead records of a pipeline'
  static override description = `Reads the pipeline's dead-letter subject (trib.<name>.dlq) without disturbing the pipeline: one entry per record set aside, with the stage, plugin, reason, error code, tries, origin and the record itself. Works from the stream alone (no pipeline file), also after \`run\` exited.`
  static override examples = ['<%= config.bin %> dlq list orders', '<%= config.bin %> dlq list orders --json', 'NATS_URL=nats://127.0.0.1:4222 <%= config.bin %> dlq list orders']
  static override enableJsonFlag = true
  static override args = { pipeline: Args.string({ description: 'Pipeline name', required: true }) }

  async run(): Promise<DlqEntry[]> {
    const { args } = await this.parse(DlqList)
    const entries = await withNats({ home: this.home, nats: this.flags.nats }, async (nc, where) => (await readDeadRecords(nc, args.pipeline, where)).map(publicEntry))
    if (!this.jsonEnabled()) this.log(formatTable(dlqRows(entries)))
    return entries
  }
}
