import type { InsertOptions, JsonObject } from '../plugin-api.js'

type AddedColumn = NonNullable<InsertOptions['addColumn']>

const hasOwn = Object.prototype.hasOwnProperty

/** `rows` with `column` added to each, by copying (what a client that stringifies rows itself is given). */
export function withColumn(rows: readonly JsonObject[], column: AddedColumn): JsonObject[] {
  return rows.map((row, i) => ({ ...row, [column.name]: column.values[i]! }))
}

/**
 * The JSONEachRow text of `rows`, one line each, with `column` added to every row. The added
 * field is spliced into the row's own JSON text rather than the row copied with it (a copy per
 * row showed in profiles of the sink); a row that already has a field of that name, or is no
 * plain object (or has its own toJSON), is copied instead, so the added value replaces that
 * field as before.
 */
export function jsonEachRow(rows: readonly JsonObject[], column?: AddedColumn): string {
  let body = ''
  if (!column) {
    for (let i = 0; i < rows.length; i++) body += JSON.stringify(rows[i]) + '\n'
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
    const json = JSON.stringify(row)
    // A plain object's JSON ends with `}`; `{}` (no fields, or only undefined ones) takes no comma.
    body += (json.length === 2 ? '{' : json.slice(0, -1) + ',') + field + JSON.stringify(value) + '}\n'
  }
  return body
}
