/**
 * The package's own JSON Schemas, read once from <package>/schemas. That folder sits beside
 * core/ when running from sources and two levels above dist/core/schema when compiled, so look
 * upwards for it rather than hard-coding either layout.
 */
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

function readSchema(name: string): object {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const file = path.join(dir, 'schemas', name)
    if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as object
    const up = path.dirname(dir)
    if (up === dir) throw new Error(`schemas/${name} is missing from the Tributary package; reinstall it`)
    dir = up
  }
}

/** schemas/plugin-manifest.schema.json */
export const manifestSchema = readSchema('plugin-manifest.schema.json')
/** schemas/pipeline.schema.json */
export const pipelineSchema = readSchema('pipeline.schema.json')
/** schemas/pipeline-test.schema.json */
export const pipelineTestSchema = readSchema('pipeline-test.schema.json')
