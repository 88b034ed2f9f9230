import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../base-command.js'
import { replayPipelineFile } from '../../core/replay/run-replay.js'
import { parseSince } from '../../core/replay/since.js'
import { formatProgress, type ReplayProgress } from '../../core/replay/progress.js'
import { formatReplayResult } from '../../core/replay/format-result.js'
import type { ReplayResult } from '../../core/replay/types.js'

export default class Replay extends BaseCommand<typeof Replay> {
  static override summary = 'Reprocess retained history through the pipeline under a new epoch'
  static override description = `Reads the source subject's retained history (all of it, from --from-seq, or since --since) with a temporary consumer of its own, runs it through the transforms into the sinks under a new epoch (so nothing is dropped as a duplicate of the first pass), and exits once caught up with where the source was at start. The pipeline's own consumers are not moved; it may keep running. --into-table writes the ClickHouse sinks into a new table created like theirs (a backfill after a transform changed; other sinks do not run), and --swap then exchanges it with the original (EXCHANGE TABLES, or a three-way RENAME on old servers). Progress, rate and ETA go to stderr.`
  static override examples = [
    '<%= config.bin %> replay pipeline.yaml',
    '<%= config.bin %> replay pipeline.yaml --into-table events_v2',
    '<%= config.bin %> replay pipeline.yaml --into-table events_v2 --swap',
    '<%= config.bin %> replay pipeline.yaml --since 2h --into-table events_last2h',
    '<%= config.bin %> replay pipeline.yaml --from-seq 120000 --json',
  ]
  static override enableJsonFlag = true
  static override args = { file: Args.string({ description: 'Pipeline file (YAML or JSON)', required: true }) }
  static override flags = {
    'from-seq': Flags.integer({ description: 'First stream sequence to reprocess (default: the oldest retained)', min: 1, exclusive: ['since'] }),
    since: Flags.string({ description: 'Reprocess what was stored since this time: ISO 8601 (2024-05-01T12:00:00Z) or a duration back from now (2h, 7d)', exclusive: ['from-seq'] }),
    'into-table': Flags.string({ description: 'Write the ClickHouse sinks into this new table, created like theirs' }),
    swap: Flags.boolean({ description: 'Exchange the new table with the original once caught up', default: false, dependsOn: ['into-table'] }),
  }

  async run(): Promise<ReplayResult> {
    const { args, flags } = await this.parse(Replay)
    const tty = process.stderr.isTTY === true
    const progress = (p: ReplayProgress): void => void process.stderr.write(tty ? `\r${formatProgress(p)}\u001b[K` : `${formatProgress(p)}\n`)
    const result = await replayPipelineFile(args.file, {
      home: this.home,
      nats: this.flags.nats,
      fromSeq: flags['from-seq'],
      since: flags.since === undefined ? undefined : parseSince(flags.since),
      intoTable: flags['into-table'],
      swap: flags.swap,
      onProgress: progress,
      progressEveryMs: tty ? 1000 : 5000,
      handleSignals: true,
    })
    if (tty && result.epoch !== 0) process.stderr.write('\n')
    if (!this.jsonEnabled()) this.log(formatReplayResult(result))
    return result
  }
}
