import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises'
import path from 'node:path'

export interface NdjsonFileOptions {
  rotateBytes: number
  keep: number
  fsync: boolean
}

/**
 * An append-only file with size rotation (`path` → `path.1` → `path.2` …, `keep` of them). Each
 * append is flushed to disk when `fsync` is set, and a new or rotated file's folder entry too,
 * so "written" means it survives a power cut, not only a crash of the process.
 */
export class NdjsonFile {
  private fh: FileHandle | undefined
  private size = 0

  constructor(
    readonly path: string,
    private readonly opts: NdjsonFileOptions,
  ) {}

  /**
   * Appends lines (each ending in a newline). With rotation, a file is rotated before a line
   * would take it past `rotateBytes`, so a batch may end in the next file; a single line longer
   * than the limit gets a file of its own.
   */
  async append(lines: readonly string[]): Promise<void> {
    if (!this.fh) await this.open()
    const limit = this.opts.rotateBytes
    let chunk = ''
    let chunkBytes = 0
    for (const line of lines) {
      const bytes = Buffer.byteLength(line)
      if (limit > 0 && this.size + chunkBytes > 0 && this.size + chunkBytes + bytes > limit) {
        await this.write(chunk, chunkBytes)
        if (this.size > 0) await this.rotate()
        chunk = ''
        chunkBytes = 0
      }
      chunk += line
      chunkBytes += bytes
    }
    await this.write(chunk, chunkBytes)
  }

  private async write(text: string, bytes: number): Promise<void> {
    if (bytes === 0) return
    await this.fh!.appendFile(text)
    this.size += bytes
    if (this.opts.fsync) await this.fh!.datasync()
  }

  async close(): Promise<void> {
    await this.fh?.close()
    this.fh = undefined
  }

  private async open(): Promise<void> {
    await mkdir(path.dirname(this.path), { recursive: true })
    const existed = await stat(this.path).then(
      (s) => s.size,
      () => undefined,
    )
    this.fh = await open(this.path, 'a')
    this.size = existed ?? 0
    if (existed === undefined) await this.syncFolder()
  }

  private async rotate(): Promise<void> {
    await this.close()
    const name = (i: number): string => `${this.path}.${i}`
    await rm(name(this.opts.keep), { force: true })
    for (let i = this.opts.keep - 1; i >= 1; i--) await rename(name(i), name(i + 1)).catch(ignoreMissing)
    await rename(this.path, name(1))
    await this.open()
  }

  private async syncFolder(): Promise<void> {
    if (!this.opts.fsync) return
    const dir = await open(path.dirname(this.path), 'r')
    try {
      await dir.sync()
    } finally {
      await dir.close()
    }
  }
}

function ignoreMissing(err: NodeJS.ErrnoException): void {
  if (err.code !== 'ENOENT') throw err
}
