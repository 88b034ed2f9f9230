import { stat } from 'node:fs/promises'
import { parse as parseCsv } from 'csv-parse/sync'
import { defineSource, parseDuration, sleep, type JsonObject, type SourceItem } from '../../core/plugin-api.js'
import { LineReader, type Line } from './line-reader.js'

interface FileConfig {
  path: string
  format: 'ndjson' | 'csv' | 'lines'
  follow: boolean
  field: string
  delimiter: string
  csvNumbers: boolean
  batchSize: number
  pollInterval: string
}

/** Where to resume: the byte after the last line whose record JetStream acknowledged. */
type Checkpoint = {
  pos: number
  line: number
  header?: string[]
}

const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/

export default defineSource<FileConfig>({
  async open(ctx) {
    const cfg = ctx.config
    const size = await stat(cfg.path).then(
      (s) => s.size,
      (err: NodeJS.ErrnoException) => {
        throw new Error(`cannot read ${cfg.path}: ${err.code === 'ENOENT' ? 'no such file' : err.message}; check the \`path\` of the file source`)
      },
    )
    let cp = ctx.checkpoint as Checkpoint | undefined
    if (cp && cp.pos > size) {
      ctx.logger.warn({ path: cfg.path, position: cp.pos, size }, 'file is shorter than the saved position (replaced or truncated); reading it from the start')
      cp = undefined
    }
    const reader = new LineReader(cfg.path, cp?.pos ?? 0, cp?.line ?? 0)
    let header = cp?.header
    const pollMs = parseDuration(cfg.pollInterval)
    let pendingCsv: Line | undefined

    const csvRow = (line: Line): SourceItem | undefined => {
      const text = pendingCsv ? `${pendingCsv.text}\n${line.text}` : line.text
      let rows: string[][]
      try {
        rows = parseCsv(text, { delimiter: cfg.delimiter, relax_column_count: true }) as string[][]
      } catch (err) {
        // A quoted cell may hold a newline: keep the line and join it with the next one.
        if ((err as { code?: string }).code === 'CSV_QUOTE_NOT_CLOSED') {
          pendingCsv = { ...line, text, number: pendingCsv?.number ?? line.number }
          return undefined
        }
        pendingCsv = undefined
        return { offset: line.number, error: `line ${line.number}: not valid CSV: ${(err as Error).message}`, raw: text }
      }
      const number = pendingCsv?.number ?? line.number
      pendingCsv = undefined
      const cells = rows[0]
      if (!cells) return undefined
      if (!header) {
        header = cells
        return undefined
      }
      if (cells.length !== header.length) {
        return { offset: number, error: `line ${number}: ${cells.length} cells where the header has ${header.length}`, raw: text }
      }
      const value: JsonObject = {}
      header.forEach((h, i) => {
        const c = cells[i]!
        value[h] = cfg.csvNumbers && NUMBER.test(c) ? Number(c) : c
      })
      return { offset: number, value }
    }

    const toItem = (line: Line): SourceItem | undefined => {
      if (cfg.format === 'csv') return csvRow(line)
      if (line.text.trim() === '') return undefined
      if (cfg.format === 'lines') return { offset: line.number, value: { [cfg.field]: line.text } }
      try {
        const v: unknown = JSON.parse(line.text)
        if (typeof v !== 'object' || v === null || Array.isArray(v)) {
          return { offset: line.number, error: `line ${line.number}: a record must be a JSON object`, raw: line.text }
        }
        return { offset: line.number, json: line.text }
      } catch (err) {
        return { offset: line.number, error: `line ${line.number}: not valid JSON: ${(err as Error).message}`, raw: line.text }
      }
    }

    return {
      async read() {
        const lines = await reader.next(cfg.batchSize, !cfg.follow)
        const items: SourceItem[] = []
        for (const l of lines) {
          const it = toItem(l)
          if (it) items.push(it)
        }
        const last = lines[lines.length - 1]
        // Never checkpoint inside a multi-line CSV record: resume at its first line.
        const checkpoint: Checkpoint | undefined = last && !pendingCsv ? { pos: last.end, line: last.number, header } : undefined
        const atEnd = lines.length < cfg.batchSize
        if (atEnd && cfg.follow && lines.length === 0) {
          await sleep(pollMs, ctx.signal)
        }
        return { items, checkpoint, done: atEnd && !cfg.follow }
      },
      close: () => reader.close(),
    }
  },
})
