/**
 * The isolated plugin process (started by plugin-process.ts inside the sandbox). Before any
 * plugin code runs it narrows the environment to the declared variables and routes TCP through
 * the host's proxy; then it imports the plugin, opens it with a context whose services talk to
 * the host, and answers one frame per hook call. Frames come in on fd 3 and go out on fd 4;
 * stdout and stderr are the plugin's own output, which the host logs.
 */
import net from 'node:net'
import { pathToFileURL } from 'node:url'
import { isRejection, outputKey, type JsonObject, type JsonValue, type PluginDefinition, type SinkWriter, type SourceBatch, type SourceReader, type StatefulTransformProcessor, type TransformProcessor, type TransformResult } from '../../plugin-api.js'
import { frameWriter, readFrames } from '../framing.js'
import { serializeError } from '../error-codec.js'
import type { ChildToHost, EncodedKeyed, EncodedResults, EncodedSourceBatch, HookName, HostToChild, InitMessage, OpenedInfo } from '../types.js'
import { restrictEnv, undeclaredEnvMessage } from './env.js'
import { patchNetwork } from './net-patch.js'
import { childContext, type HostChannel } from './context.js'
import { bufferedMetrics } from './metrics.js'

type Opened = Partial<SourceReader & StatefulTransformProcessor & SinkWriter> & { close?(): Promise<void> }

const input = new net.Socket({ fd: 3, readable: true, writable: false })
const output = new net.Socket({ fd: 4, readable: false, writable: true })
const out = frameWriter(output)
const send = (msg: ChildToHost): void => out.send(msg)
const abort = new AbortController()
const waiting = new Map<number, { resolve(v: JsonValue | null): void; reject(e: Error): void }>()
const settlers = new Map<number, SourceBatch>()
let nextRequest = 1
let nextBatch = 1
let opened: Opened | undefined

const host: HostChannel = {
  log(level, obj, msg) {
    send({ t: 'log', level, obj: toJson(obj), ...(msg !== undefined ? { msg } : {}) })
  },
  request(op, key, value) {
    const id = nextRequest++
    return new Promise((resolve, reject) => {
      waiting.set(id, { resolve, reject })
      send({ t: 'req', id, op, key, ...(value !== undefined ? { value } : {}) })
    })
  },
}

// The host is gone (or closed the stage): nothing left to do.
input.on('end', () => process.exit(0))
input.on('error', () => process.exit(0))
const metrics = bufferedMetrics()
// A heartbeat the host watches (a plugin that blocks the event loop stops it and is restarted); it carries the plugin's metrics.
setInterval(() => {
  const m = metrics.drain()
  send(m ? { t: 'alive', metrics: m } : { t: 'alive' })
}, 1000).unref()

readFrames(
  input,
  (m) => void onFrame(m as HostToChild),
  (err) => {
    process.stderr.write(`tributary: bad frame from the host: ${err.message}\n`)
    process.exit(70)
  },
)

async function onFrame(m: HostToChild): Promise<void> {
  switch (m.t) {
    case 'init':
      return answer(m.id, () => init(m))
    case 'call':
      return answer(m.id, () => call(m.hook, m.args))
    case 'settled': {
      const b = settlers.get(m.batch)
      settlers.delete(m.batch)
      b?.settled?.(m.ok ? { ok: true } : { ok: false, error: new Error(m.error ?? 'not stored'), backpressure: m.backpressure === true })
      return
    }
    case 'abort':
      abort.abort()
      return
    case 'reply': {
      const w = waiting.get(m.id)
      waiting.delete(m.id)
      if (!w) return
      if (m.ok) w.resolve(m.value)
      else w.reject(Object.assign(new Error(m.error.message), { code: m.error.code }))
      return
    }
  }
}

async function answer(id: number, fn: () => Promise<JsonValue | null | OpenedInfo>): Promise<void> {
  try {
    send({ t: 'res', id, ok: true, value: ((await fn()) ?? null) as JsonValue })
  } catch (err) {
    send({ t: 'res', id, ok: false, error: serializeError(err) })
  }
}

async function init(m: InitMessage): Promise<OpenedInfo> {
  restrictEnv(m.env, (name) => host.log('warn', { variable: name }, undeclaredEnvMessage(name)))
  await patchNetwork(m.policy.network, m.proxySocket)
  const who = `plugin "${m.plugin.name}" (${m.plugin.kind})`
  const mod = (await import(pathToFileURL(m.entry).href)) as { default?: Partial<PluginDefinition> }
  const def = mod.default
  if (!def || typeof def.open !== 'function' || def.kind !== m.plugin.kind) {
    const define = `define${m.plugin.kind[0]!.toUpperCase()}${m.plugin.kind.slice(1)}`
    throw new Error(`${who}: ${m.entry} must have a default export made with ${define}() from tributary/plugin`)
  }
  if (m.probe) return { hooks: [] }
  const ctx = childContext(m, host, abort.signal, metrics.metrics)
  opened = (await (def.open as (c: unknown) => unknown)(ctx)) as Opened
  const hooks = (['read', 'process', 'write', 'close', 'snapshot', 'restore', 'tick', 'finish'] as const).filter((h) => typeof opened![h] === 'function')
  return { hooks: [...hooks], ...(opened.batching ? { batching: opened.batching } : {}) }
}

async function call(hook: HookName, args: JsonValue[]): Promise<JsonValue | null> {
  const o = opened!
  switch (hook) {
    case 'read':
      return encodeBatch(await o.read!()) as unknown as JsonValue
    case 'process':
      return encodeResults(await o.process!(args[0] as JsonObject[], args[1] as never)) as unknown as JsonValue
    case 'write':
      return ((await o.write!(args[0] as never)) ?? null) as JsonValue | null
    case 'close':
      await o.close?.()
      return null
    case 'snapshot':
      return (await o.snapshot!()) ?? null
    case 'restore':
      await o.restore!(args[0] as JsonValue)
      return null
    case 'tick':
      return encodeKeyed(o.tick!(args[0] as number)) as unknown as JsonValue
    case 'finish':
      return encodeKeyed(o.finish!()) as unknown as JsonValue
  }
}

function encodeResults(results: TransformResult[]): EncodedResults {
  if (!Array.isArray(results)) return { results: results as never }
  const rejects: [number, string][] = []
  const encoded = results.map((r, i) => {
    if (isRejection(r)) {
      rejects.push([i, r.reason])
      return null
    }
    return r === undefined ? null : r
  })
  return rejects.length ? { results: encoded, rejects } : { results: encoded }
}

function encodeKeyed(records: JsonObject[]): EncodedKeyed {
  return { records, keys: records.map((r) => outputKey(r) ?? null) }
}

function encodeBatch(b: SourceBatch): EncodedSourceBatch {
  const enc: EncodedSourceBatch = { items: b.items as unknown as JsonValue[] }
  if (b.checkpoint !== undefined) enc.checkpoint = b.checkpoint
  if (b.done) enc.done = true
  if (b.failWhenFull) enc.failWhenFull = true
  if (b.settled) {
    enc.settle = nextBatch++
    settlers.set(enc.settle, b)
  }
  return enc
}

function toJson(v: unknown): JsonValue {
  if (typeof v === 'string') return v
  try {
    return JSON.parse(JSON.stringify(v, (_k, x: unknown) => (x instanceof Error ? { message: x.message, name: x.name } : x))) as JsonValue
  } catch {
    return String(v)
  }
}
