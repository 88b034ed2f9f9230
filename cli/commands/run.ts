import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../base-command.js'
import { runPipelineFile } from '../../core/app/run-pipeline.js'

export default class Run extends BaseCommand<typeof Run> {
  static override summary = 'Run a pipeline in the foreground'
  static override description = `Creates the pipeline's stream, consumers and tables if missing, then moves records until a finite source is drained (exit 0 once everything is flushed and acknowledged) or until SIGINT/SIGTERM, which drains: stop reading, finish in-flight batches, flush sinks, ack. A second signal exits at once. Restarting after a crash resumes where the acknowledged records end.`
  static override examples = [
    '<%= config.bin %> run examples/quickstart/pipeline.yaml',
    'NATS_URL=nats://127.0.0.1:4222 <%= config.bin %> run pipeline.yaml',
    'CLICKHOUSE_URL=http://127.0.0.1:8123 <%= config.bin %> run pipeline.yaml --home /var/lib/tributary',
    '<%= config.bin %> run pipeline.yaml --metrics-port 9464   # then: curl http://127.0.0.1:9464/metrics',
  ]
  static override args = { file: Args.string({ description: 'Pipeline file (YAML or JSON)', required: true }) }
  static override flags = {
    'metrics-port': Flags.integer({ description: 'Serve Prometheus /metrics, /healthz and /readyz on this port (0: a free one, printed in the log); overrides `metrics.port` of the file, whose `metrics.host` (default 127.0.0.1) is the address. Off when neither is set', min: 0, max: 65535 }),
  }

  async run(): Promise<void> {
    const { args } = await this.parse(Run)
    const summary = await runPipelineFile(args.file, { home: this.home, nats: this.flags.nats, handleSignals: true, metricsPort: this.flags['metrics-port'] })
    const dead = summary.source.dead + summary.groups.reduce((n, g) => n + g.stats.dead, 0)
    this.logToStderr(`${summary.pipeline}: ${summary.source.published} records in, ${dead} to the dead-letter queue${summary.completed ? ', input drained' : ', stopped'}`)
  }
}
