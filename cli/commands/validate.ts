import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../base-command.js'
import { Session, openRegistry } from '../../core/app/session.js'
import { planPipeline } from '../../core/app/plan-pipeline.js'
import { loadPipeline } from '../../core/pipeline/load.js'
import { formatPlan, type Plan } from '../../core/pipeline/plan.js'
import { ValidationError } from '../../core/errors.js'

export default class Validate extends BaseCommand<typeof Validate> {
  static override summary = 'Check pipeline files, and show what running one would change'
  static override description = 'Validates each file against the pipeline schema and every stage config against its plugin\'s schema, reporting every error at once with file, line and JSON path. With --plan, also reads the current state (stream, consumers, saved positions, ClickHouse tables) and shows what a run would create, keep, resume, reprocess or drop.'
  static override examples = ['<%= config.bin %> validate pipeline.yaml', '<%= config.bin %> validate pipelines/*.yaml', '<%= config.bin %> validate pipeline.yaml --plan', '<%= config.bin %> validate pipeline.yaml --plan --json']
  static override strict = false
  static override enableJsonFlag = true
  static override args = { file: Args.string({ description: 'Pipeline file(s), YAML or JSON', required: true }) }
  static override flags = { plan: Flags.boolean({ description: 'Compare with the current state and show the changes', default: false }) }

  async run(): Promise<object[]> {
    const { argv, flags } = await this.parse(Validate)
    const registry = await openRegistry(this.home)
    const results: { file: string; pipeline: string; plan?: Plan }[] = []
    const failures: ValidationError[] = []
    for (const file of argv as string[]) {
      try {
        const spec = await loadPipeline(file, registry)
        results.push({ file, pipeline: spec.name })
        if (flags.plan) {
          const session = new Session({ home: this.home, nats: this.flags.nats, secrets: spec.secrets })
          try {
            results[results.length - 1]!.plan = await planPipeline(spec, registry, session)
          } finally {
            await session.close()
          }
        }
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err
        failures.push(err)
      }
    }
    if (!this.jsonEnabled()) {
      for (const r of results) {
        this.log(`${r.file}: valid (pipeline ${r.pipeline})`)
        if (r.plan) this.log(formatPlan(r.plan))
      }
    }
    if (failures.length === 1) throw failures[0]
    if (failures.length > 1) throw new ValidationError(`${failures.length} files`, failures.flatMap((f) => f.issues))
    return results
  }
}
