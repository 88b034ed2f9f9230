import { Args } from '@oclif/core'
import { BaseCommand } from '../base-command.js'
import { openRegistry } from '../../core/app/session.js'
import { TributaryError } from '../../core/errors.js'
import { runPipelineTests } from '../../core/pipeline-test/run.js'
import { formatPipelineTestReport } from '../../core/pipeline-test/format.js'
import type { PipelineTestReport } from '../../core/pipeline-test/types.js'

export default class Test extends BaseCommand<typeof Test> {
  static override summary = "Test a pipeline's transforms against fixtures, without servers"
  static override description = `Reads the tests of a pipeline (FILE itself when named *.test.yaml, else the pipeline's sibling <name>.test.yaml): for each, its input records go through the pipeline's transforms as the runtime would send them, and the records leaving the transforms (\`expect\`), reaching each sink (\`expectSinks\`) and going to the dead-letter queue (\`expectDlq\`) are compared with the test's; a difference is shown as a diff down to the field. No NATS, no ClickHouse: sources are not run and sinks not written. Format: docs/pipeline-tests.md. Exit code 1 when a test fails.`
  static override examples = ['<%= config.bin %> test orders.yaml', '<%= config.bin %> test orders.test.yaml', '<%= config.bin %> test orders.yaml --json']
  static override enableJsonFlag = true
  static override args = { file: Args.string({ description: 'A pipeline file (its <name>.test.yaml is run) or a test file', required: true }) }

  async run(): Promise<PipelineTestReport> {
    const { args } = await this.parse(Test)
    const report = await runPipelineTests(args.file, await openRegistry(this.home))
    if (this.jsonEnabled()) {
      if (!report.ok) this.logJson(report)
    } else this.log(formatPipelineTestReport(report))
    if (!report.ok) throw new TributaryError('E_TEST_FAILED', `${report.failed} of ${report.tests.length} pipeline tests failed`, { hint: 'the diff above shows expected (-) and received (+) records; fix the pipeline or the test' })
    return report
  }
}
