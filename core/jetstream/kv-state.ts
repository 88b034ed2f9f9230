import { Kvm, type KV } from '@nats-io/kv'
import type { JetStreamClient } from '@nats-io/jetstream'
import type { JsonValue, StateStore } from '../plugin-api.js'
import { stateBucket } from './names.js'

/**
 * Control state lives in JetStream KV, never only in a local file, so any process can resume
 * any stage (DESIGN §3). One bucket per pipeline (least privilege per pipeline); keys are
 * `<stage-id>.<key>`.
 */
export async function openStateBucket(js: JetStreamClient, pipeline: string, replicas = 1): Promise<KV> {
  return new Kvm(js).create(stateBucket(pipeline), { history: 1, replicas })
}

export function stageState(kv: KV, stageId: string): StateStore {
  const key = (k: string): string => `${stageId}.${k}`
  return {
    async get(k) {
      const e = await kv.get(key(k))
      if (!e || e.operation !== 'PUT' || e.length === 0) return undefined
      return e.json<JsonValue>()
    },
    async put(k, value) {
      await kv.put(key(k), JSON.stringify(value))
    },
  }
}
