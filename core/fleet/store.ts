import { jetstream, jetstreamManager, JetStreamApiCodes, JetStreamApiError, type JetStreamManager } from '@nats-io/jetstream'
import { Kvm, type KV, type KvEntry } from '@nats-io/kv'
import type { NatsConnection } from '@nats-io/nats-core'
import { TributaryError } from '../errors.js'
import { deploymentsBucket, pipelineKey, revisionKey } from './names.js'
import { fleetReplicas } from './replicas.js'
import { FLEET_API_TIMEOUT_MS } from './api-timeout.js'
import { kvKeys } from '../jetstream/kv-keys.js'
import { waitUntilServing } from './bucket-ready.js'
import type { DeployedRevision, PipelineDeployment } from './types.js'

/** A fleet's deployments bucket: desired state per pipeline, and every deployed revision. */
export interface FleetStore {
  readonly fleet: string
  readonly kv: KV
  deployment(name: string): Promise<PipelineDeployment | undefined>
  deployments(): Promise<PipelineDeployment[]>
  revision(name: string, revision: number): Promise<DeployedRevision | undefined>
  revisions(name: string): Promise<DeployedRevision[]>
  /** Stores a new revision under the next free number (a compare-and-set: concurrent deploys get distinct numbers). */
  addRevision(rev: Omit<DeployedRevision, 'revision'>): Promise<DeployedRevision>
  /** Read-modify-write of `pipelines.<name>`, retried when another writer got there first. */
  updateDeployment(name: string, change: (current: PipelineDeployment | undefined) => PipelineDeployment): Promise<PipelineDeployment>
  /** Deletes the pipeline and its revisions (workers watching stop it). */
  removeDeployment(name: string): Promise<void>
}

function lostRace(err: unknown): boolean {
  return err instanceof JetStreamApiError && (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
}

function live(e: KvEntry | null): e is KvEntry {
  return e !== null && e.operation === 'PUT' && e.length > 0
}

/**
 * Opens the fleet's deployments bucket. Reads go to the stream's leader (`allow_direct: false`):
 * a direct get on a freshly created R3 bucket timed out (2.9), and the leader's answer is current. `create: false` (read-only commands) returns undefined
 * when it does not exist, instead of creating it.
 */
export async function openFleetStore(nc: NatsConnection, fleet: string, opts: { create: boolean }): Promise<FleetStore | undefined> {
  const js = jetstream(nc, { timeout: FLEET_API_TIMEOUT_MS })
  const bucket = deploymentsBucket(fleet)
  if (!opts.create) {
    const jsm = await jetstreamManager(nc, { timeout: FLEET_API_TIMEOUT_MS })
    try {
      await jsm.streams.info(`KV_${bucket}`)
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return undefined
      throw err
    }
  }
  const kv = await new Kvm(js).create(bucket, { history: 1, replicas: fleetReplicas(nc), allow_direct: false })
  await waitUntilServing(nc, `KV_${bucket}`)
  return fleetStore(fleet, kv, await jetstreamManager(nc, { timeout: FLEET_API_TIMEOUT_MS }))
}

function fleetStore(fleet: string, kv: KV, jsm: JetStreamManager): FleetStore {
  const readJson = async <T>(key: string): Promise<{ value: T; revision: number } | undefined> => {
    const e = await kv.get(key)
    return live(e) ? { value: e.json<T>(), revision: e.revision } : undefined
  }
  const keys = async (filter: string): Promise<string[]> => kvKeys(jsm, deploymentsBucket(fleet), filter)
  const revisionNumbers = async (name: string): Promise<number[]> =>
    (await keys(`revisions.${name}.*`))
      .map((k) => Number(k.slice(`revisions.${name}.`.length)))
      .filter((n) => Number.isInteger(n) && n > 0)
      .sort((a, b) => a - b)

  const store: FleetStore = {
    fleet,
    kv,
    async deployment(name) {
      return (await readJson<PipelineDeployment>(pipelineKey(name)))?.value
    },
    async deployments() {
      const out: PipelineDeployment[] = []
      for (const k of await keys('pipelines.*')) {
        const d = await readJson<PipelineDeployment>(k)
        if (d) out.push(d.value)
      }
      return out.sort((a, b) => a.name.localeCompare(b.name))
    },
    async revision(name, revision) {
      return (await readJson<DeployedRevision>(revisionKey(name, revision)))?.value
    },
    async revisions(name) {
      const out: DeployedRevision[] = []
      for (const n of await revisionNumbers(name)) {
        const r = await store.revision(name, n)
        if (r) out.push(r)
      }
      return out
    },
    async addRevision(rev) {
      let n = ((await revisionNumbers(rev.name)).at(-1) ?? 0) + 1
      for (let attempt = 0; attempt < 100; attempt++, n++) {
        const doc: DeployedRevision = { ...rev, revision: n }
        try {
          await kv.create(revisionKey(rev.name, n), JSON.stringify(doc))
          return doc
        } catch (err) {
          if (!lostRace(err)) throw err
        }
      }
      throw new TributaryError('E_FLEET', `could not store a new revision of ${rev.name}: every attempt raced with another deploy`, { hint: 'deploy again' })
    },
    async updateDeployment(name, change) {
      for (let attempt = 0; attempt < 100; attempt++) {
        const cur = await readJson<PipelineDeployment>(pipelineKey(name))
        const next = change(cur?.value)
        try {
          if (cur) await kv.update(pipelineKey(name), JSON.stringify(next), cur.revision)
          else await kv.create(pipelineKey(name), JSON.stringify(next))
          return next
        } catch (err) {
          if (!lostRace(err)) throw err
        }
      }
      throw new TributaryError('E_FLEET', `could not update pipeline ${name}: it kept changing underneath`, { hint: 'try again' })
    },
    async removeDeployment(name) {
      await kv.purge(pipelineKey(name))
      for (const n of await revisionNumbers(name)) await kv.purge(revisionKey(name, n))
    },
  }
  return store
}
