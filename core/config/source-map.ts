/**
 * Parses a YAML or JSON config file (JSON is YAML, so one parser serves both) and keeps the
 * source positions, so a problem found later at `sinks[0].config.table` can name its line.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml'
import { ValidationError, type ValidationIssue } from '../errors.js'
import type { JsonPath } from './json-path.js'

export interface Position {
  /** 1-based. */
  line: number
  /** 1-based. */
  column: number
}

export interface ParsedConfig {
  /** The plain value: objects, arrays, strings, numbers, booleans, null. */
  value: unknown
  /**
   * Where `path` is written: the key's position for an object property, the item's for an
   * array item. A path that is not in the file (a default, a missing property) gives its
   * closest written ancestor; undefined only when the file is empty.
   */
  locate(path: JsonPath): Position | undefined
}

/** Throws a ValidationError (with line and column) when `text` is not valid YAML/JSON. */
export function parseConfigText(text: string, file: string): ParsedConfig {
  const lineCounter = new LineCounter()
  // uniqueKeys (the default) makes a repeated key an error instead of a silent last-one-wins.
  const doc = parseDocument(text, { lineCounter, prettyErrors: true })
  if (doc.errors.length > 0) {
    const issues: ValidationIssue[] = doc.errors.map((err) => ({
      file,
      line: err.linePos?.[0].line,
      column: err.linePos?.[0].col,
      path: '',
      message: `not valid YAML: ${syntaxMessage(err.message)}`,
    }))
    throw new ValidationError(file, issues, 'fix the syntax at the line shown (check indentation, colons and quotes)')
  }
  const value = doc.toJS({ maxAliasCount: 100 }) as unknown
  const pos = (offset: number): Position => {
    const p = lineCounter.linePos(offset)
    return { line: p.line, column: p.col }
  }
  return {
    value,
    locate(path) {
      const found = find(doc, path)
      return found === undefined ? undefined : pos(found)
    },
  }
}

// The library's message ends with " at line L, column C:" and a code excerpt; the issue
// carries the position already, so keep the first sentence.
function syntaxMessage(message: string): string {
  return message.split(/ at line \d+, column \d+/)[0]!.trim()
}

/** Offset of the deepest node of `path` that the document has. */
function find(doc: Document, path: JsonPath): number | undefined {
  let node: unknown = doc.contents
  let offset = rangeStart(node)
  for (const seg of path) {
    if (isAlias(node)) node = node.resolve(doc)
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && String(isScalar(p.key) ? p.key.value : p.key) === String(seg))
      if (!pair) break
      offset = rangeStart(pair.key) ?? offset
      node = pair.value
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg]
      if (item === undefined) break
      offset = rangeStart(item) ?? offset
      node = item
    } else break
  }
  return offset
}

function rangeStart(node: unknown): number | undefined {
  return (node as Node | null)?.range?.[0]
}
