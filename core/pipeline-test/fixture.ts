/**
 * Reads a pipeline test file (schemas/pipeline-test.schema.json), given either itself
 * (`orders.test.yaml`) or the pipeline it tests (`orders.yaml` → its sibling `orders.test.yaml`,
 * `.yml` or `.json`). Record lists may be inline or files relative to the test file.
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { TributaryError, ValidationError, errorMessage } from '../errors.js'
import type { JsonObject } from '../plugin-api.js'
import { parseConfigText } from '../config/source-map.js'
import { formatPath } from '../config/json-path.js'
import { compileSchema } from '../schema/ajv.js'
import { ajvIssues } from '../schema/issues.js'
import { pipelineTestSchema } from '../schema/schemas.js'
import { readRecordsFile } from '../plugins/conformance/inputs.js'
import type { ExpectedDlq, PipelineTestCase, PipelineTestFile } from './types.js'

const TEST_FILE = /\.test\.(ya?ml|json)$/

/** The test file for `file`: itself when named `*.test.yaml`, else the pipeline's sibling. */
export function testFileFor(file: string): string {
  const abs = path.resolve(file)
  if (TEST_FILE.test(abs)) return abs
  const base = abs.replace(/\.(ya?ml|json)$/, '')
  const found = ['.test.yaml', '.test.yml', '.test.json'].map((ext) => base + ext).find((f) => existsSync(f))
  if (!found) {
    throw new TributaryError('E_FILE', `no tests for ${abs}: ${path.basename(base)}.test.yaml does not exist`, { hint: 'write the tests in a sibling `<pipeline>.test.yaml` (see docs/pipeline-tests.md)' })
  }
  return found
}

type Raw = { pipeline?: string; env: Record<string, string>; tests: { name: string; input: unknown; expect?: unknown; expectSinks?: Record<string, unknown>; expectDlq: ExpectedDlq[] }[] }

export async function readTestFile(file: string): Promise<PipelineTestFile> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new TributaryError('E_FILE', `cannot read the test file ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : errorMessage(err)}`, { hint: 'check the path', cause: err })
  }
  const parsed = parseConfigText(text, file)
  const doc = structuredClone(parsed.value)
  const validate = compileSchema(pipelineTestSchema)
  if (!validate(doc)) {
    const issues = ajvIssues(validate.errors, doc, { written: parsed.value }).map((i) => ({ file, ...parsed.locate(i.at), path: formatPath(i.at), message: i.message, suggestion: i.suggestion }))
    throw new ValidationError(`pipeline tests ${file}`, issues, 'fix the test file (its schema is schemas/pipeline-test.schema.json; see docs/pipeline-tests.md)')
  }
  const raw = doc as Raw
  const dir = path.dirname(file)
  const records = async (v: unknown): Promise<JsonObject[]> => (Array.isArray(v) ? (v as JsonObject[]) : readRecordsFile(path.resolve(dir, (v as { file: string }).file)))
  const tests: PipelineTestCase[] = []
  for (const t of raw.tests) {
    const sinks: Record<string, JsonObject[]> = {}
    for (const [id, v] of Object.entries(t.expectSinks ?? {})) sinks[id] = await records(v)
    tests.push({
      name: t.name,
      input: await records(t.input),
      ...(t.expect !== undefined ? { expect: await records(t.expect) } : {}),
      ...(t.expectSinks ? { expectSinks: sinks } : {}),
      expectDlq: t.expectDlq,
    })
  }
  const pipeline = raw.pipeline ? path.resolve(dir, raw.pipeline) : siblingPipeline(file)
  return { file, pipeline, env: raw.env, tests }
}

function siblingPipeline(testFile: string): string {
  const base = testFile.replace(TEST_FILE, '')
  const found = ['.yaml', '.yml', '.json'].map((ext) => base + ext).find((f) => existsSync(f))
  if (!found) throw new TributaryError('E_FILE', `${testFile} does not say which pipeline it tests, and ${path.basename(base)}.yaml does not exist`, { hint: 'add `pipeline: <file>` to the test file' })
  return found
}
