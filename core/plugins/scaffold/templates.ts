/**
 * The code `plugins new` writes, per kind: the TypeScript source (src/index.ts) and the same
 * code built (dist/index.js), so a new plugin installs and runs before its author has installed
 * anything. A unit test checks that the JS is what tsc makes of the TS. `__NAME__` is replaced
 * by the plugin's name.
 */
import type { JsonObject, PluginKind } from '../../plugin-api.js'

export interface KindTemplate {
  description: string
  config: JsonObject
  ts: string
  js: string
}

const transformTs = `import { defineTransform, reject, type JsonValue, type TransformResult } from 'tributary/plugin'

// The config as plugin.json's \`config\` schema describes it; defaults come from the schema.
interface Config {
  required: string[]
  set: Record<string, JsonValue>
}

export default defineTransform<Config>({
  open(ctx) {
    const { required, set } = ctx.config
    const setting = Object.keys(set).length > 0
    return {
      // Called with a batch of records. Return one result per record, in order: the record
      // (changed or not), an array of records, null (drop it) or reject(reason) (dead-letter queue).
      process(records) {
        return records.map((record): TransformResult => {
          const missing = required.filter((field) => !(field in record))
          if (missing.length > 0) return reject(\`missing field(s): \${missing.join(', ')}\`)
          return setting ? { ...record, ...set } : record
        })
      },
    }
  },
})
`

const transformJs = `import { defineTransform, reject } from 'tributary/plugin'
export default defineTransform({
  open(ctx) {
    const { required, set } = ctx.config
    const setting = Object.keys(set).length > 0
    return {
      // Called with a batch of records. Return one result per record, in order: the record
      // (changed or not), an array of records, null (drop it) or reject(reason) (dead-letter queue).
      process(records) {
        return records.map((record) => {
          const missing = required.filter((field) => !(field in record))
          if (missing.length > 0) return reject(\`missing field(s): \${missing.join(', ')}\`)
          return setting ? { ...record, ...set } : record
        })
      },
    }
  },
})
`

const sourceTs = `import { defineSource, type SourceItem } from 'tributary/plugin'

// The config as plugin.json's \`config\` schema describes it; defaults come from the schema.
interface Config {
  count: number
  batchSize: number
}

export default defineSource<Config>({
  open(ctx) {
    const { count, batchSize } = ctx.config
    // Resume after the last batch the pipeline stored: its checkpoint comes back here.
    let next = typeof ctx.checkpoint === 'number' ? ctx.checkpoint : 0
    return {
      // Called for the next batch. Offsets must increase and be the same when re-read.
      async read() {
        const items: SourceItem[] = []
        while (items.length < batchSize && next < count) {
          items.push({ offset: next + 1, value: { seq: next, source: ctx.stageId } })
          next++
        }
        return { items, checkpoint: next, done: next >= count }
      },
    }
  },
})
`

const sourceJs = `import { defineSource } from 'tributary/plugin'
export default defineSource({
  open(ctx) {
    const { count, batchSize } = ctx.config
    // Resume after the last batch the pipeline stored: its checkpoint comes back here.
    let next = typeof ctx.checkpoint === 'number' ? ctx.checkpoint : 0
    return {
      // Called for the next batch. Offsets must increase and be the same when re-read.
      async read() {
        const items = []
        while (items.length < batchSize && next < count) {
          items.push({ offset: next + 1, value: { seq: next, source: ctx.stageId } })
          next++
        }
        return { items, checkpoint: next, done: next >= count }
      },
    }
  },
})
`

const sinkTs = `import { defineSink } from 'tributary/plugin'

// The config as plugin.json's \`config\` schema describes it; defaults come from the schema.
interface Config {
  verbose: boolean
}

export default defineSink<Config>({
  open(ctx) {
    let written = 0
    return {
      batching: { rows: 500, bytes: 1 << 20, maxWaitMs: 200 },
      // Called with a batch; its inputs are acknowledged once this resolves. Throw to have the
      // batch retried; return { rejected: [{ index, reason }] } for records that can never be written.
      async write({ records }) {
        written += records.length
        if (ctx.config.verbose) for (const record of records) ctx.logger.info({ record }, '__NAME__: record')
        ctx.logger.info({ batch: records.length, written }, '__NAME__: wrote a batch')
      },
      async close() {
        ctx.logger.info({ written }, '__NAME__: closed')
      },
    }
  },
})
`

const sinkJs = `import { defineSink } from 'tributary/plugin'
export default defineSink({
  open(ctx) {
    let written = 0
    return {
      batching: { rows: 500, bytes: 1 << 20, maxWaitMs: 200 },
      // Called with a batch; its inputs are acknowledged once this resolves. Throw to have the
      // batch retried; return { rejected: [{ index, reason }] } for records that can never be written.
      async write({ records }) {
        written += records.length
        if (ctx.config.verbose) for (const record of records) ctx.logger.info({ record }, '__NAME__: record')
        ctx.logger.info({ batch: records.length, written }, '__NAME__: wrote a batch')
      },
      async close() {
        ctx.logger.info({ written }, '__NAME__: closed')
      },
    }
  },
})
`

export const TEMPLATES: Record<PluginKind, KindTemplate> = {
  transform: {
    description: 'A Tributary transform plugin: checks that records have the required fields and sets fields on them. With no config, records pass through unchanged.',
    config: {
      type: 'object',
      additionalProperties: false,
      properties: {
        required: { type: 'array', items: { type: 'string', minLength: 1 }, default: [], description: 'Fields every record must have; a record without one goes to the dead-letter queue.' },
        set: { type: 'object', default: {}, description: 'Fields to set on every record, with their values, e.g. `{ env: prod }`.' },
      },
    },
    ts: transformTs,
    js: transformJs,
  },
  source: {
    description: 'A Tributary source plugin: emits `count` numbered records in batches, then ends; resumes after the last stored batch.',
    config: {
      type: 'object',
      additionalProperties: false,
      properties: {
        count: { type: 'integer', minimum: 0, default: 10, description: 'Records to emit before the input ends.' },
        batchSize: { type: 'integer', minimum: 1, maximum: 100000, default: 100, description: 'Records per batch.' },
      },
    },
    ts: sourceTs,
    js: sourceJs,
  },
  sink: {
    description: 'A Tributary sink plugin: logs how many records each batch holds (and the records themselves with `verbose`).',
    config: {
      type: 'object',
      additionalProperties: false,
      properties: {
        verbose: { type: 'boolean', default: false, description: 'Log every record, not only a count per batch.' },
      },
    },
    ts: sinkTs,
    js: sinkJs,
  },
}
