import type { InsertOptions, JsonObject } from '../plugin-api.js'

type AddedColumn = NonNullable<InsertOptions['addColumn']>

const hasOwn = Object.prototype.hasOwnProperty

/**
 * The JSONEachRow text of `rows`, one line each, with `column` added to every row; `json`: the
 * rows' own texts, used instead of serialising them again. The added
 * field is spliced into the row's own JSON text rather than the row copied with it (a copy per
 * row showed in profiles of the sink); a row that already has a field of that name, or is no
 * plain object (or has its own toJSON), is copied instead, so the added value replaces that
 * field as before.
 */
export function jsonEachRow(rows: readonly JsonObject[], column?: AddedColumn, json?: readonly string[]): string {
  let body = ''
  const text = json && json.length === rows.length ? (i: number): string => ownLine(json[i]!, rows[i]!) : (i: number): string => JSON.stringify(rows[i])
  if (!column) {
    for (let i = 0; i < rows.length; i++) body += text(i) + '\n'
    return body
  }
  const { name, values } = column
  const field = JSON.stringify(name) + ':'
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!
    const value = values[i]!
    if (Object.getPrototypeOf(row) !== Object.prototype || hasOwn.call(row, name) || hasOwn.call(row, 'toJSON')) {
      body += JSON.stringify({ ...row, [name]: value }) + '\n'
      continue
    }
    const own = text(i)
    // A plain object's JSON ends with `}`; `{}` (no fields, or only undefined ones) takes no comma.
    body += (isEmptyObject(own) ? '{' : own.slice(0, -1) + ',') + field + JSON.stringify(value) + '}\n'
  }
  return body
}

/**
 * A row's own text (what it was parsed from) as its line: trimmed, and serialised again only when
 * it spans lines (whitespace between tokens may hold line breaks; strings cannot).
 */
function ownLine(json: string, row: JsonObject): string {
  const t = json.trim()
  return t.includes('\n') || t.includes('\r') ? JSON.stringify(row) : t
}

/** `{}`, with any whitespace inside (a parsed text may have some); `json` is trimmed. */
function isEmptyObject(json: string): boolean {
  // Looks back from the closing brace: one character for any object with a field.
  let i = json.length - 2
  while (i > 0 && (json.charCodeAt(i) === 32 || json.charCodeAt(i) === 9 || json.charCodeAt(i) === 10 || json.charCodeAt(i) === 13)) i--
  return i === 0
}
