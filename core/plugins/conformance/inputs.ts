/**
 * Inputs of `plugins test` from the command line: a config given inline (`{"where": "x > 1"}`)
 * or as a YAML/JSON file, and records from an NDJSON, JSON or YAML file.
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { TributaryError, errorMessage } from '../../errors.js'
import type { JsonObject } from '../../plugin-api.js'
import { parseConfigText } from '../../config/source-map.js'

const isRecord = (v: unknown): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v)

/** The config and the folder its relative paths are relative to. */
export async function readConfigArg(arg: string, cwd = process.cwd()): Promise<{ config: JsonObject; baseDir: string }> {
  const inline = arg.trimStart().startsWith('{')
  const file = inline ? '--config' : path.resolve(cwd, arg)
  const text = inline ? arg : await readText(file)
  const value = parseConfigText(text, file).value
  if (!isRecord(value)) throw new TributaryError('E_USAGE', `${file} must hold a config object`, { hint: 'e.g. --config \'{"where": "value > 100"}\' or --config config.yaml' })
  return { config: value, baseDir: inline ? cwd : path.dirname(file) }
}

/** Records from NDJSON (one object a line), or a JSON/YAML array. */
export async function readRecordsFile(file: string): Promise<JsonObject[]> {
  const text = await readText(file)
  let records: unknown
  if (/\.(ndjson|jsonl)$/.test(file)) {
    records = text
      .split('\n')
      .map((l, i) => ({ l: l.trim(), i }))
      .filter(({ l }) => l !== '')
      .map(({ l, i }) => {
        try {
          return JSON.parse(l) as unknown
        } catch (err) {
          throw new TributaryError('E_FILE', `${file}:${i + 1}: not valid JSON: ${errorMessage(err)}`, { hint: 'write one JSON object per line' })
        }
      })
  } else records = parseConfigText(text, file).value
  if (!Array.isArray(records) || !records.every(isRecord)) throw new TributaryError('E_FILE', `${file} must hold records (JSON objects): one per line (.ndjson) or an array (.json, .yaml)`, { hint: 'e.g. {"id": 1, "value": 150} on each line' })
  return records
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    throw new TributaryError('E_FILE', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : errorMessage(err)}`, { hint: 'check the path', cause: err })
  }
}
