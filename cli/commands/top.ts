import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../base-command.js'
import { withNats } from '../../core/app/with-nats.js'
import { runTop } from '../../core/status/top-loop.js'
import { parseDuration } from '../../core/config/units.js'

export default class Top extends BaseCommand<typeof Top> {
  static override summary = 'Live per-stage view of running pipelines'
  static override description = `Like \`vector top\`: one row per stage with records in and out, rates, dead letters, errors and the consuming stages' lag, redrawn every --interval from the status documents runtimes publish and the server's consumer info. On a terminal the screen is redrawn; otherwise (or with --once) frames are printed one after another. \`pipelines status --json\` gives the same figures as data.`
  static override examples = ['<%= config.bin %> top', '<%= config.bin %> top orders --interval 5s', '<%= config.bin %> top orders --once']
  static override args = { name: Args.string({ description: 'Pipeline name (default: every pipeline on the NATS server)' }) }
  static override flags = {
    interval: Flags.string({ description: 'Refresh period (a duration such as 1s or 500ms)', default: '1s' }),
    once: Flags.boolean({ description: 'Print one frame and exit', default: false }),
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Top)
    const intervalMs = Math.max(100, parseDuration(flags.interval))
    const redraw = process.stdout.isTTY === true && !flags.once
    const stop = new AbortController()
    const onSignal = (): void => stop.abort()
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    try {
      await withNats({ home: this.home, nats: this.flags.nats }, (nc, where) =>
        runTop({ nc, where, pipeline: args.name, intervalMs, once: flags.once, signal: stop.signal, draw: (frame) => process.stdout.write(redraw ? `\x1b[H\x1b[2J${frame}\n` : `${frame}\n\n`) }),
      )
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }
}
