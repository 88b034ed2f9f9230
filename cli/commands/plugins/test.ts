import { existsSync } from 'node:fs'
import path from 'node:path'
import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../base-command.js'
import { openRegistry } from '../../../core/app/session.js'
import { TributaryError } from '../../../core/errors.js'
import { runConformance } from '../../../core/plugins/conformance/run.js'
import { formatConformanceReport } from '../../../core/plugins/conformance/format.js'
import { readConfigArg, readRecordsFile } from '../../../core/plugins/conformance/inputs.js'
import type { ConformanceReport } from '../../../core/plugins/conformance/types.js'
import type { PluginKind } from '../../../core/plugin-api.js'

export default class PluginsTest extends BaseCommand<typeof PluginsTest> {
  static override summary = 'Run the conformance suite against a plugin'
  static override description = `Checks a plugin folder (default: the current folder) or an installed or built-in plugin by name: manifest valid, code exports the right kind, engine range, config schema and its defaults, then runs its hooks without servers — open, process/write/read, one result per input, unexpected records rejected to the DLQ instead of thrown, batch boundaries, resuming from a checkpoint, close, and no timers, sockets or files left open. Exit code 1 when a check fails.`
  static override examples = [
    '<%= config.bin %> plugins test',
    '<%= config.bin %> plugins test ./my-plugin --config \'{"field": "country"}\'',
    '<%= config.bin %> plugins test filter --config \'{"where": "value > 100"}\' --json',
    '<%= config.bin %> plugins test clickhouse --manifest-only',
  ]
  static override enableJsonFlag = true
  static override args = { plugin: Args.string({ description: 'Plugin folder, or the name of an installed or built-in plugin', default: '.' }) }
  static override flags = {
    config: Flags.string({ description: 'Config for the plugin: inline JSON, or a YAML/JSON file (default: `examples[0]` of its config schema, else {})' }),
    records: Flags.string({ description: 'Records to feed a transform or sink: .ndjson, or a JSON/YAML array (default: a built-in sample)' }),
    kind: Flags.string({ description: 'With a name shared by several kinds: source, transform or sink', options: ['source', 'transform', 'sink'] }),
    'manifest-only': Flags.boolean({ description: 'Check manifest, code and config schema only; run no hook (for plugins that need a server)', default: false }),
    timeout: Flags.integer({ description: 'Longest a hook may take, in ms', default: 10_000, min: 1 }),
  }

  async run(): Promise<ConformanceReport> {
    const { args, flags } = await this.parse(PluginsTest)
    const target = await this.target(args.plugin, flags.kind as PluginKind | undefined)
    const cfg = flags.config ? await readConfigArg(flags.config) : undefined
    const report = await runConformance(target, {
      ...(cfg ? { config: cfg.config, baseDir: cfg.baseDir } : {}),
      ...(flags.records ? { records: await readRecordsFile(path.resolve(flags.records)) } : {}),
      level: flags['manifest-only'] ? 'manifest' : 'full',
      timeoutMs: flags.timeout,
    })
    if (this.jsonEnabled()) {
      if (!report.ok) this.logJson(report)
    } else this.log(formatConformanceReport(report))
    if (!report.ok) {
      throw new TributaryError('E_TEST_FAILED', `${report.counts.fail} of ${report.checks.length} conformance checks failed for ${report.plugin.name ? `plugin "${report.plugin.name}"` : report.plugin.dir}`, { hint: 'fix what the failed (✗) checks say, then run `tributary plugins test` again' })
    }
    return report
  }

  private async target(arg: string, kind: PluginKind | undefined): Promise<{ dir: string; builtin: boolean }> {
    if (existsSync(path.join(arg, 'plugin.json'))) return { dir: path.resolve(arg), builtin: false }
    const matches = (await openRegistry(this.home)).list().filter((p) => p.manifest.name === arg && (!kind || p.manifest.kind === kind))
    if (matches.length === 1) return { dir: matches[0]!.dir, builtin: matches[0]!.builtin }
    if (matches.length > 1) throw new TributaryError('E_USAGE', `several plugins are named "${arg}": ${matches.map((m) => m.manifest.kind).join(', ')}`, { hint: 'add --kind' })
    throw new TributaryError('E_USAGE', `${path.resolve(arg)} has no plugin.json, and no plugin is named "${arg}"`, { hint: 'give a plugin folder (with plugin.json) or a name from `tributary plugins list`' })
  }
}
