import { loadPipeline } from '../pipeline/load.js'
import { formatPlan } from '../pipeline/plan.js'
import type { PluginRegistry } from '../plugins/types.js'
import type { DeployResult } from './deploy.js'
import { formatUserConfig, pipelinePermissions, type NatsPermissions } from './permissions.js'
import { formatChanges } from './stage-diff.js'

/** `pipelines deploy` for a terminal: the changes, the JetStream plan, then what happened. */
export function formatDeploy(r: DeployResult): string {
  const against = r.previous ? `revision ${r.previous} (running)` : 'nothing (first deploy)'
  const lines = [formatChanges(r.changes, against)]
  if (r.comparedWithout) lines.push(`(${r.comparedWithout})`)
  lines.push('', 'On JetStream:', formatPlan(r.plan), '')
  const rollback = r.rollbackOf ? ` (the file of revision ${r.rollbackOf})` : ''
  if (r.dryRun) lines.push(`dry run: nothing stored; pipeline ${r.pipeline} in fleet ${r.fleet} stays at ${r.previous ? `revision ${r.previous}` : 'not deployed'}`)
  else if (r.unchanged) lines.push(`pipeline ${r.pipeline} in fleet ${r.fleet}: revision ${r.revision} already holds this file; nothing changed`)
  else lines.push(`deployed ${r.pipeline} revision ${r.revision}${rollback} to fleet ${r.fleet}${r.previous ? `; workers drain revision ${r.previous} and start it` : ''}`)
  if (!r.dryRun && r.state === 'stopped') lines.push(`the pipeline is stopped: \`tributary pipelines start ${r.pipeline} --fleet ${r.fleet}\` runs it`)
  return lines.join('\n')
}

/** `deploy --emit-permissions`: the pipeline's least-privilege permissions, as data and as a nats-server user entry. */
export async function emitPermissions(file: string, registry: PluginRegistry): Promise<{ pipeline: string; user: string; permissions: NatsPermissions; config: string }> {
  const spec = await loadPipeline(file, registry)
  const permissions = pipelinePermissions(spec.name)
  const user = spec.nats?.user ?? spec.name
  const ref = `$${spec.name.toUpperCase().replace(/-/g, '_')}_NATS_PASSWORD`
  const config = [
    `# NATS user for pipeline ${spec.name}: its subjects, its stream's JetStream API and its state bucket only.`,
    `# Put it in the server's \`authorization { users = [ ... ] }\` (or an account's \`users\`), and give the`,
    `# pipeline file a \`nats\` block with this user (password as \${env:...}), which workers resolve.`,
    formatUserConfig(user, ref, permissions),
  ].join('\n')
  return { pipeline: spec.name, user, permissions, config }
}
