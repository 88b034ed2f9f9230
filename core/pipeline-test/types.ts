import type { JsonObject } from '../plugin-api.js'

export interface ExpectedDlq {
  stage: string
  reason?: string
  code?: string
  record?: JsonObject
}

/** One test of a test file, its record lists read (files loaded). */
export interface PipelineTestCase {
  name: string
  input: JsonObject[]
  expect?: JsonObject[]
  expectSinks?: Record<string, JsonObject[]>
  expectDlq: ExpectedDlq[]
}

export interface PipelineTestFile {
  /** Absolute path of the test file. */
  file: string
  /** Absolute path of the pipeline file it tests. */
  pipeline: string
  env: Record<string, string>
  tests: PipelineTestCase[]
}

/** A dead-letter entry the pipeline would write: which stage, why, and the record. */
export interface DlqEntry {
  stage: string
  code: string
  reason: string
  record: JsonObject
}

export interface TestRunOutput {
  /** Records leaving the last transform. */
  outputs: JsonObject[]
  /** Sink id → records it receives. */
  sinks: Record<string, JsonObject[]>
  dlq: DlqEntry[]
}

export interface PipelineTestResult {
  name: string
  ok: boolean
  /** A failure that stopped the test (a plugin that broke the batch contract, …). */
  error?: string
  /** What differs: a title and a readable diff each. */
  differences: { what: string; diff: string }[]
  actual?: TestRunOutput
}

export interface PipelineTestReport {
  file: string
  pipeline: string
  ok: boolean
  passed: number
  failed: number
  tests: PipelineTestResult[]
}
