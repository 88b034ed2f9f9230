import { open, type FileHandle } from 'node:fs/promises'

export interface Line {
  text: string
  /** 1-based line number in the file. */
  number: number
  /** Byte offset just after this line's newline: where to resume. */
  end: number
}

/**
 * Reads complete lines from a byte offset in large chunks. A last line without its newline is
 * held back until the newline arrives (a writer may be mid-line) unless the caller says the
 * input is final.
 */
export class LineReader {
  private fh: FileHandle | undefined
  private carry = Buffer.alloc(0)
  private readonly chunk = Buffer.allocUnsafe(1 << 20)

  constructor(
    private readonly path: string,
    private pos: number,
    private lineNo: number,
  ) {}

  async next(max: number, final: boolean): Promise<Line[]> {
    this.fh ??= await open(this.path, 'r')
    const lines: Line[] = []
    for (;;) {
      this.takeLines(lines, max)
      if (lines.length >= max) return lines
      const { bytesRead } = await this.fh.read(this.chunk, 0, this.chunk.length, this.pos + this.carry.length)
      if (bytesRead === 0) {
        if (final && this.carry.length > 0) {
          const text = this.carry.toString('utf8').replace(/\r$/, '')
          this.pos += this.carry.length
          this.carry = Buffer.alloc(0)
          lines.push({ text, number: ++this.lineNo, end: this.pos })
        }
        return lines
      }
      this.carry = this.carry.length ? Buffer.concat([this.carry, this.chunk.subarray(0, bytesRead)]) : Buffer.from(this.chunk.subarray(0, bytesRead))
    }
  }

  private takeLines(out: Line[], max: number): void {
    let start = 0
    while (out.length < max) {
      const nl = this.carry.indexOf(10, start)
      if (nl < 0) break
      let end = nl
      if (end > start && this.carry[end - 1] === 13) end--
      this.lineNo++
      out.push({ text: this.carry.toString('utf8', start, end), number: this.lineNo, end: this.pos + nl + 1 })
      start = nl + 1
    }
    if (start > 0) {
      this.pos += start
      this.carry = this.carry.subarray(start)
    }
  }

  async close(): Promise<void> {
    await this.fh?.close()
    this.fh = undefined
  }
}
