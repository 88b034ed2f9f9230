import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../base-command.js'
import { withNats } from '../../../core/app/with-nats.js'
import { redriveDeadRecords } from '../../../core/dlq/redrive.js'
import { formatRedrive } from '../../../core/dlq/format.js'
import type { RedriveSummary } from '../../../core/dlq/types.js'

export default class DlqReplay extends BaseCommand<typeof DlqReplay> {
  static override summary = 'Redrive dead records into the stage where they failed'
  static override description = `Republishes each selected dead record on the subject its stage reads (the source's subject for records that were malformed at the source) under a new epoch, so it is not dropped as a duplicate of the first pass, and removes it from the dead-letter queue once JetStream has stored it. Fix the cause first (edit the pipeline file); a running pipeline picks the records up at once, a stopped one on its next \`run\`. A redrive re-runs the whole consuming group of its stage: with several sinks fused in one group, a record that failed in one sink is written to the others again.`
  static override examples = [
    '<%= config.bin %> dlq replay orders',
    '<%= config.bin %> dlq replay orders --stage filter',
    '<%= config.bin %> dlq replay orders --seq 1042 --seq 1043 --json',
  ]
  static override enableJsonFlag = true
  static override args = { pipeline: Args.string({ description: 'Pipeline name', required: true }) }
  static override flags = {
    stage: Flags.string({ description: 'Only the entries of this stage id' }),
    seq: Flags.integer({ description: 'Only this entry (repeatable)', multiple: true, min: 1 }),
  }

  async run(): Promise<RedriveSummary> {
    const { args, flags } = await this.parse(DlqReplay)
    const summary = await withNats({ home: this.home, nats: this.flags.nats }, (nc, where) => redriveDeadRecords(nc, args.pipeline, where, { stage: flags.stage, seqs: flags.seq }))
    if (!this.jsonEnabled()) this.log(formatRedrive(summary))
    return summary
  }
}
