import { describe, expect, it } from 'vitest'
import { LineSplitter, datagramLines, type LineSink } from '../../plugins/socket-source/line-splitter.js'

function collect(): LineSink & { lines: string[]; long: [string, number][] } {
  const lines: string[] = []
  const long: [string, number][] = []
  return { lines, long, line: (t) => lines.push(t), tooLong: (h, n) => long.push([h, n]) }
}

describe('socket line splitting', () => {
  it('joins lines across chunks and handles CRLF and a last line without newline', () => {
    const s = new LineSplitter(1000)
    const out = collect()
    for (const c of ['{"a":1}\n{"a"', ':2}\r\n', 'x\ny', 'z']) s.push(Buffer.from(c), out)
    expect(out.lines).toEqual(['{"a":1}', '{"a":2}', 'x'])
    s.end(out)
    expect(out.lines).toEqual(['{"a":1}', '{"a":2}', 'x', 'yz'])
  })

  it('keeps multi-byte characters split between chunks whole', () => {
    const s = new LineSplitter(1000)
    const out = collect()
    const b = Buffer.from('héllo→\n')
    s.push(b.subarray(0, 2), out)
    s.push(b.subarray(2, 7), out)
    s.push(b.subarray(7), out)
    expect(out.lines).toEqual(['héllo→'])
  })

  it('reports a line over the limit once and skips the rest of it', () => {
    const s = new LineSplitter(10)
    const out = collect()
    s.push(Buffer.from('ok\n0123456'), out)
    s.push(Buffer.from('789abcdef'), out)
    s.push(Buffer.from('ghij\nnext\n'), out)
    expect(out.lines).toEqual(['ok', 'next'])
    expect(out.long).toEqual([['0123456789abcdef', 16]])
    s.push(Buffer.from('01234567890123\n'), out)
    expect(out.long[1]).toEqual(['01234567890123', 14])
  })

  it('a datagram holds one or more lines, its end ending the last', () => {
    const out = collect()
    datagramLines(Buffer.from('<13>Jan 1 host app: one\n<13>two'), 100, out)
    expect(out.lines).toEqual(['<13>Jan 1 host app: one', '<13>two'])
  })
})
