import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import type { NatsConnection } from '@nats-io/nats-core'
import { TributaryError, errorMessage } from '../errors.js'
import { loadPipelineFromText } from '../pipeline/load.js'
import { computePlan, planRefusals, type Plan } from '../pipeline/plan.js'
import type { PipelineSpec } from '../pipeline/types.js'
import type { PluginRegistry } from '../plugins/types.js'
import { compileTopology, topologyConsumers } from '../runtime/topology.js'
import { readJetStreamState, statefulStageIds } from '../app/plan-pipeline.js'
import { checkFleetSpec } from './fleet-checks.js'
import { runLeaseHolder } from '../runtime/run-lease.js'
import { diffRevisions, pipelineSummary, type StageChange } from './stage-diff.js'
import { openFleetStore, type FleetStore } from './store.js'
import { whoAmI } from './identity.js'
import type { DesiredState, DeployedRevision } from './types.js'

export interface DeployRequest {
  fleet: string
  /** A pipeline file; with `revision`, the pipeline's name (or a file naming it). */
  target: string
  /** Roll back: deploy again what revision N held (as a new revision). */
  revision?: number
  /** Environment the file is validated with (the deployer's); workers resolve references with theirs. */
  env: NodeJS.ProcessEnv
  /** Validate and plan only. */
  dryRun?: boolean
}

export interface DeployResult {
  fleet: string
  pipeline: string
  /** The revision workers run after this deploy (the new one, or the current one when unchanged). */
  revision: number
  /** The revision that was running before. */
  previous?: number
  state: DesiredState
  /** Same file at the same path as the running revision: nothing stored. */
  unchanged: boolean
  rollbackOf?: number
  dryRun: boolean
  changes: StageChange[]
  /** What the JetStream side will do (stream, consumers, positions). */
  plan: Plan
  /** The running revision could not be loaded for the comparison (why). */
  comparedWithout?: string
}

/** A stored revision as a spec, validated with `env`. */
export async function loadRevision(rev: DeployedRevision, registry: PluginRegistry, env: NodeJS.ProcessEnv): Promise<PipelineSpec> {
  return loadPipelineFromText(rev.text, rev.file, registry, { env })
}

/**
 * `pipelines deploy`: validate the file (with the deployer's environment, exactly as a worker
 * will load it), refuse what a fleet cannot run, compare with the running revision, store the
 * file's text as the next revision and point the pipeline at it. Workers watching the bucket
 * drain the old revision and start the new one; stages that keep their id keep their consumers
 * and saved state.
 */
export async function deployPipeline(nc: NatsConnection, registry: PluginRegistry, req: DeployRequest): Promise<DeployResult> {
  // A dry run creates nothing: without the bucket, there is simply nothing deployed yet.
  const store = await openFleetStore(nc, req.fleet, { create: !req.dryRun })
  const source = await revisionSource(store, registry, req)
  const spec = await loadPipelineFromText(source.text, source.file, registry, { env: req.env })
  checkFleetSpec(spec, registry)
  const runner = await runLeaseHolder(nc, spec.name)
  if (runner) {
    throw new TributaryError('E_FLEET', `pipeline ${spec.name} is running in \`tributary run\` (${runner.owner}, since ${runner.acquiredAt}): a run and a fleet cannot read its consumers at once`, {
      hint: 'stop that run first (Ctrl-C drains it), then deploy: the workers carry on where it stopped',
    })
  }

  const current = await store?.deployment(spec.name)
  const running = current ? await store!.revision(spec.name, current.revision) : undefined
  let runningSpec: PipelineSpec | undefined
  let comparedWithout: string | undefined
  if (running) {
    runningSpec = await loadRevision(running, registry, req.env).catch((err: unknown) => {
      comparedWithout = `revision ${running.revision} no longer loads here: ${errorMessage(err)}`
      return undefined
    })
  }
  const changes = diffRevisions(runningSpec, spec)
  const topology = compileTopology(spec, (s) => registry.get(s.kind, s.use)?.manifest.stateful === true)
  const plan = computePlan(spec, await readJetStreamState(nc, spec, statefulStageIds(spec, registry)), { consumers: topologyConsumers(topology), tables: [] })
  const refused = planRefusals(plan)[0]
  if (refused) {
    throw new TributaryError('E_STATE', `pipeline ${spec.name}: stage ${refused.name} ${refused.detail}`, {
      hint: `keep the stage's \`partitions\` as it was, or give it a new \`id\` (its state starts afresh and it reads the retained history again)`,
    })
  }
  const unchanged = running !== undefined && running.text === source.text && running.file === source.file
  const base = { fleet: req.fleet, pipeline: spec.name, previous: current?.revision, changes, plan, dryRun: req.dryRun === true, ...(comparedWithout ? { comparedWithout } : {}), ...(source.rollbackOf ? { rollbackOf: source.rollbackOf } : {}) }
  if (req.dryRun || unchanged || !store) {
    return { ...base, revision: current?.revision ?? 0, state: current?.state ?? 'running', unchanged }
  }

  const by = whoAmI()
  const rev = await store.addRevision({
    version: 1,
    name: spec.name,
    file: source.file,
    text: source.text,
    deployedAt: new Date().toISOString(),
    deployedBy: by,
    summary: pipelineSummary(spec),
    ...(source.rollbackOf ? { rollbackOf: source.rollbackOf } : {}),
  })
  const d = await store.updateDeployment(spec.name, (cur) => ({
    version: 1,
    name: spec.name,
    // A concurrent deploy that stored a later revision wins.
    revision: Math.max(rev.revision, cur?.revision ?? 0),
    // Deploying a stopped pipeline keeps it stopped: `start` resumes it.
    state: cur?.state ?? 'running',
    updatedAt: rev.deployedAt,
    updatedBy: by,
  }))
  return { ...base, revision: rev.revision, state: d.state, unchanged: false }
}

async function revisionSource(store: FleetStore | undefined, registry: PluginRegistry, req: DeployRequest): Promise<{ text: string; file: string; rollbackOf?: number }> {
  if (req.revision === undefined) return { text: await readPipelineText(req.target), file: path.resolve(req.target) }
  let name = req.target
  if (existsSync(req.target)) name = (await loadPipelineFromText(await readPipelineText(req.target), path.resolve(req.target), registry, { env: req.env })).name
  const rev = await store?.revision(name, req.revision)
  if (!rev) {
    const known = (await store?.revisions(name))?.map((r) => r.revision) ?? []
    throw new TributaryError('E_FLEET', `pipeline ${name} has no revision ${req.revision} in fleet ${req.fleet}`, {
      hint: known.length ? `its revisions are ${known.join(', ')} (\`tributary pipelines history ${name}\`)` : `deploy it first: \`tributary pipelines deploy <file>\``,
    })
  }
  return { text: rev.text, file: rev.file, rollbackOf: rev.revision }
}

async function readPipelineText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : errorMessage(err)
    throw new TributaryError('E_FILE', `cannot read the pipeline file ${file}: ${why}`, { hint: 'check the path; with --revision, give the pipeline name' })
  }
}
