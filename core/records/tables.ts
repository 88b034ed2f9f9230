/**
 * Names of lookup tables: a table is a JetStream KV bucket of JSON records, one per key, written
 * by the `table` sink and read by `join` (table mode). Re-exported by the public plugin API.
 */

/** KV bucket of the lookup table `name` (letters, digits, `_` and `-`). */
export function tableBucket(name: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`"${name}" is not a valid table name: use letters, digits, _ and -`)
  return `trib-table-${name}`
}

// KV keys are NATS subject tokens: letters, digits and -/_= (dots separate tokens).
const PLAIN_KEY = /^[A-Za-z0-9_=-]{1,200}$/

/**
 * KV key of a record key. Plain strings and integers (letters, digits, `-`, `_`, `=`) are used as
 * they are, so `42` and `"42"` are the same key; anything else (spaces, dots, `@`, long values) is
 * base64url-encoded behind the token `b64.`, which no plain key can equal.
 */
export function tableKey(value: unknown): string {
  const s = typeof value === 'string' ? value : JSON.stringify(value)
  if (typeof value === 'string' && PLAIN_KEY.test(s)) return s
  if (typeof value === 'number' && Number.isInteger(value) && PLAIN_KEY.test(s)) return s
  // base64url never yields a lone `-`: it stands for the empty string (a key cannot end with `.`).
  return `b64.${s === '' ? '-' : Buffer.from(s, 'utf8').toString('base64url')}`
}
