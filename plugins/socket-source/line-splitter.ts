export interface LineSink {
  line(text: string): void
  /** A line longer than the limit: its first KB; the rest of it up to the next newline is skipped. */
  tooLong(head: string, bytes: number): void
}

const HEAD_BYTES = 1024

/**
 * Cuts a byte stream (one TCP connection) into lines. Chunks are searched for `\n` in place and
 * a partial line is held as buffers until its end arrives, so a chunk of many lines costs one
 * `toString` per line and nothing more. `\r\n` counts as a newline.
 */
export class LineSplitter {
  private parts: Buffer[] = []
  private size = 0
  /** Inside a line that is over the limit: skip up to the next newline. */
  private skipping = false

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer, out: LineSink): void {
    let start = 0
    for (;;) {
      const nl = chunk.indexOf(10, start)
      if (nl < 0) break
      if (this.skipping) this.skipping = false
      else this.emit(this.parts.length ? Buffer.concat([...this.parts, chunk.subarray(start, nl)]) : chunk.subarray(start, nl), out)
      this.parts = []
      this.size = 0
      start = nl + 1
    }
    if (start >= chunk.length || this.skipping) return
    const rest = chunk.subarray(start)
    this.size += rest.length
    if (this.size > this.maxBytes) {
      const head = Buffer.concat([...this.parts, rest]).subarray(0, HEAD_BYTES)
      out.tooLong(head.toString('utf8'), this.size)
      this.parts = []
      this.size = 0
      this.skipping = true
      return
    }
    // Copied: the socket may reuse the chunk's memory.
    this.parts.push(Buffer.from(rest))
  }

  /** The connection ended: a last line without its newline is still a line. */
  end(out: LineSink): void {
    if (this.parts.length && !this.skipping) this.emit(Buffer.concat(this.parts), out)
    this.parts = []
    this.size = 0
    this.skipping = false
  }

  private emit(buf: Buffer, out: LineSink): void {
    const len = buf.length > 0 && buf[buf.length - 1] === 13 ? buf.length - 1 : buf.length
    if (len > this.maxBytes) return out.tooLong(buf.toString('utf8', 0, HEAD_BYTES), len)
    out.line(buf.toString('utf8', 0, len))
  }
}

/** The lines of one datagram; its end ends its last line. */
export function datagramLines(msg: Buffer, maxBytes: number, out: LineSink): void {
  const s = new LineSplitter(maxBytes)
  s.push(msg, out)
  s.end(out)
}
