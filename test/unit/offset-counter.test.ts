import { describe, expect, it } from 'vitest'
import { createOffsetCounter, type JsonValue, type StateStore } from '../../core/plugin-api.js'

function memoryState(): StateStore & { puts: number; data: Map<string, JsonValue> } {
  const data = new Map<string, JsonValue>()
  const s = {
    data,
    puts: 0,
    async get(k: string) {
      return data.get(k)
    },
    async put(k: string, v: JsonValue) {
      s.puts++
      data.set(k, v)
    },
  }
  return s
}

describe('offset counter (push sources)', () => {
  it('hands out consecutive offsets, writing the state once per block', async () => {
    const state = memoryState()
    const c = createOffsetCounter(state, { block: 100 })
    expect(await c.take(10)).toBe(1)
    expect(await c.take(5)).toBe(11)
    expect(state.puts).toBe(1)
    expect(await c.take(90)).toBe(16) // crosses the block: one more write
    expect(state.puts).toBe(2)
    expect(await c.take(500)).toBe(106) // larger than a block
    expect(await c.take(1)).toBe(606)
  })

  it('never repeats an offset after a restart, and serializes concurrent takes', async () => {
    const state = memoryState()
    const first = createOffsetCounter(state, { block: 100 })
    await first.take(3)
    const second = createOffsetCounter(state, { block: 100 })
    const starts = await Promise.all([second.take(50), second.take(50), second.take(50)])
    expect(starts).toEqual([101, 151, 201])
  })
})
