import { RUN_LEASES_BUCKET, pipelineSubjects, stateBucket, streamName } from '../jetstream/names.js'
import { deploymentsBucket, leasesBucket, workersBucket } from './names.js'

/** A nats-server `permissions` block. */
export interface NatsPermissions {
  publish: { allow: string[] }
  subscribe: { allow: string[] }
}

/**
 * What a client needs to use one JetStream stream: its own API subjects (info, create, update,
 * purge, read by sequence, consumers) and acks / flow control of its consumers. The API subjects
 * end in the stream's name, so another stream's API is out of reach.
 */
function streamApi(stream: string): string[] {
  return [
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.STREAM.CREATE.${stream}`,
    `$JS.API.STREAM.UPDATE.${stream}`,
    `$JS.API.STREAM.PURGE.${stream}`,
    `$JS.API.STREAM.MSG.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}.>`,
    `$JS.API.CONSUMER.CREATE.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.DURABLE.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.INFO.${stream}.>`,
    `$JS.API.CONSUMER.DELETE.${stream}.>`,
    `$JS.API.CONSUMER.MSG.NEXT.${stream}.>`,
    `$JS.API.CONSUMER.LIST.${stream}`,
    `$JS.API.CONSUMER.NAMES.${stream}`,
    `$JS.ACK.${stream}.>`,
    `$JS.FC.${stream}.>`,
  ]
}

/** A KV bucket is a stream `KV_<bucket>` written on `$KV.<bucket>.>`. */
function kvApi(bucket: string): string[] {
  return [`$KV.${bucket}.>`, ...streamApi(`KV_${bucket}`)]
}

/**
 * `tributary run`'s lease: the bucket all pipelines share (created by the first run), read by
 * whole-message get, and written under this pipeline's key only. No purge, no consumers: one
 * pipeline's user cannot clear another's lease (it can read who holds one).
 */
function runLeaseApi(pipeline: string): string[] {
  const stream = `KV_${RUN_LEASES_BUCKET}`
  return [`$KV.${RUN_LEASES_BUCKET}.${pipeline}`, `$JS.API.STREAM.INFO.${stream}`, `$JS.API.STREAM.CREATE.${stream}`, `$JS.API.STREAM.MSG.GET.${stream}`]
}

/**
 * Least privilege for the connection that runs one pipeline (its file's `nats` block): its
 * subjects `trib.<name>.>`, its stream's JetStream API, its state bucket and its key of the run
 * lease bucket — nothing of any other pipeline. `$JS.API.INFO` is the account check every JetStream client makes; replies come on
 * `_INBOX.>` (the client's default inbox prefix). Plugins that reach other subjects (the `nats`
 * source and sink) need those added.
 */
export function pipelinePermissions(pipeline: string): NatsPermissions {
  return {
    publish: { allow: ['$JS.API.INFO', pipelineSubjects(pipeline), ...streamApi(streamName(pipeline)), ...kvApi(stateBucket(pipeline)), ...runLeaseApi(pipeline)] },
    subscribe: { allow: ['_INBOX.>', pipelineSubjects(pipeline)] },
  }
}

/** A worker's own connection: the fleet's three buckets only (pipelines run on their own credentials). */
export function workerPermissions(fleet: string): NatsPermissions {
  return {
    publish: { allow: ['$JS.API.INFO', ...kvApi(deploymentsBucket(fleet)), ...kvApi(workersBucket(fleet)), ...kvApi(leasesBucket(fleet))] },
    subscribe: { allow: ['_INBOX.>'] },
  }
}

/**
 * A user entry for a nats-server config file (`authorization { users = [ … ] }` or an account's
 * `users`). `password` is written as given: `$NAME` (unquoted) makes the server read it from its
 * environment, a quoted string is the password itself.
 */
export function formatUserConfig(user: string, password: string, p: NatsPermissions): string {
  const list = (xs: string[]): string[] => xs.map((x, i) => `      "${x}"${i < xs.length - 1 ? ',' : ''}`)
  return [
    '{',
    `  user: "${user}"`,
    `  password: ${password}`,
    '  permissions: {',
    '    publish: { allow: [',
    ...list(p.publish.allow),
    '    ] }',
    '    subscribe: { allow: [',
    ...list(p.subscribe.allow),
    '    ] }',
    '  }',
    '}',
  ].join('\n')
}
