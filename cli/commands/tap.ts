import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../base-command.js'
import { withNats } from '../../core/app/with-nats.js'
import { resolveTapTarget } from '../../core/tap/target.js'
import { tapSubject } from '../../core/tap/tap.js'

export default class Tap extends BaseCommand<typeof Tap> {
  static override summary = 'Print a live sample of a stage’s output'
  static override description = `Subscribes to a stage's output subject (the source's when STAGE is left out; \`dlq\` for the dead-letter subject) and prints each record as one JSON line on stdout as it flows, until --limit records or Ctrl-C. A plain subscription: the stream and the pipeline's consumers are not touched. Stages fused into one consuming group publish nothing between them: tap the source, or a stage before a boundary.`
  static override examples = ['<%= config.bin %> tap orders', '<%= config.bin %> tap orders enrich --limit 10', '<%= config.bin %> tap orders --json | jq .record.value']
  static override args = {
    pipeline: Args.string({ description: 'Pipeline name', required: true }),
    stage: Args.string({ description: 'Stage id (default: the source)' }),
  }
  static override flags = {
    limit: Flags.integer({ char: 'n', description: 'Stop after this many records', min: 1 }),
    json: Flags.boolean({ description: 'Print each record with its subject and message id: {"subject","id","record"} per line', default: false }),
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Tap)
    const ac = new AbortController()
    const onSignal = (): void => ac.abort()
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    try {
      await withNats({ home: this.home, nats: this.flags.nats }, async (nc, where) => {
        const target = await resolveTapTarget(nc, args.pipeline, args.stage, where)
        if (target.stored === 0) this.warn(`nothing is stored on ${target.subject}: stage ${target.stage} may not exist, or be fused with the stage after it (no JetStream hop)${target.known.length ? `; stages with data: ${target.known.join(', ')}` : ''}`)
        process.stderr.write(`tapping ${target.subject} (Ctrl-C to stop)\n`)
        await tapSubject(nc, target.subjects, {
          limit: flags.limit,
          signal: ac.signal,
          onMessage: (m) => this.log(JSON.stringify(flags.json ? m : m.record)),
        })
      })
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }
}
