import { describe, expect, it } from 'vitest'
import type { IncomingMessage } from 'node:http'
import { pushSettings, type PushConfig } from '../../plugins/push-sink/config.js'
import { authenticator } from '../../plugins/push-sink/auth.js'
import { parseSubscription } from '../../plugins/push-sink/subscription.js'
import { Ring } from '../../plugins/push-sink/ring.js'
import { entry, type Entry } from '../../plugins/push-sink/entry.js'
import { Subscriber } from '../../plugins/push-sink/subscriber.js'
import type { Transport } from '../../plugins/push-sink/transport.js'
import { celCompiler } from '../../core/expr/cel.js'

const base: PushConfig = {
  tokens: ['secret-one', 'secret-two'],
  policy: 'drop-oldest',
  buffer: 10,
  ring: 5,
  history: { maxAge: '1h', maxMessages: 1000, maxBytes: '1MB', replicas: 1 },
  host: '127.0.0.1',
  allowOrigins: [],
  heartbeat: '15s',
  timeout: '10s',
}

const e = (seq: number, record: Record<string, number | string> = { n: seq }): Entry => entry(seq, JSON.stringify(record), record)
const req = (authorization?: string): IncomingMessage => ({ headers: authorization ? { authorization } : {} }) as IncomingMessage

describe('push sink: settings', () => {
  it('names list tokens token-1, token-2 and teams by their names; history beside the pipeline stream', () => {
    const s = pushSettings(base, 'orders', 'live')
    expect([...s.teams]).toEqual([['secret-one', 'token-1'], ['secret-two', 'token-2']])
    expect(s.channel).toBe('live')
    expect(s.history).toMatchObject({ stream: 'PUSH_ORDERS--LIVE', subject: 'trib-push.orders.live', maxAgeMs: 3_600_000, maxBytes: 1024 * 1024 })
    const named = pushSettings({ ...base, channel: 'ops', tokens: { ops: 'ops-token-1', analysts: 'an-token-1' } }, 'orders', 'live')
    expect(named.channel).toBe('ops')
    expect([...named.teams.values()]).toEqual(['ops', 'analysts'])
  })

  it('refuses two teams with one token, and tls without a port of its own', () => {
    expect(() => pushSettings({ ...base, tokens: { a: 'same-token', b: 'same-token' } }, 'p', 's')).toThrow('tokens: b has the same token as a')
    expect(() => pushSettings({ ...base, tls: { cert: '/c', key: '/k' } }, 'p', 's')).toThrow(/tls needs `port`/)
  })
})

describe('push sink: tokens', () => {
  const auth = authenticator(pushSettings({ ...base, tokens: { ops: 'ops-token-1', analysts: 'an-token-1' } }, 'p', 's').teams)
  const url = (q = ''): URL => new URL(`http://x/push/s${q}`)
  it('takes a bearer header or ?token=, and names the team', () => {
    expect(auth(req('Bearer ops-token-1'), url())).toBe('ops')
    expect(auth(req('bearer an-token-1'), url())).toBe('analysts')
    expect(auth(req(), url('?token=an-token-1'))).toBe('analysts')
  })
  it('refuses a wrong, partial or missing token', () => {
    expect(auth(req('Bearer ops-token-2'), url())).toBeUndefined()
    expect(auth(req('Bearer ops-token'), url())).toBeUndefined()
    expect(auth(req('Basic ops-token-1'), url())).toBeUndefined()
    expect(auth(req(), url())).toBeUndefined()
    expect(auth(req(), url('?token='))).toBeUndefined()
  })
})

describe('push sink: subscription parameters', () => {
  const parse = (q: string, header?: string, live = 100) => parseSubscription(new URL(`http://x/push/s${q}`), header, live, celCompiler)
  it('compiles the filter and resumes after Last-Event-ID (header first, then ?lastEventId=)', () => {
    const s = parse('?filter=value%20%3E%2010&lastEventId=3', '42')
    expect('error' in s).toBe(false)
    if ('error' in s) return
    expect(s.after).toBe(42)
    expect(s.filter?.test({ value: 11 })).toBe(true)
    expect(s.filter?.test({ value: 10 })).toBe(false)
    expect(parse('?lastEventId=7')).toEqual({ after: 7 })
  })
  it('`last=N` starts N records back; nothing: live from now', () => {
    expect(parse('?last=30')).toEqual({ after: 70 })
    expect(parse('?last=500')).toEqual({ after: 0 })
    expect(parse('')).toEqual({})
  })
  it('a filter that does not parse, or a bad id, is a sentence for a 400', () => {
    expect(parse('?filter=value%20%3E')).toEqual({ error: expect.stringMatching(/^filter: expression `value >` does not parse/) })
    expect(parse('', 'abc')).toEqual({ error: expect.stringMatching(/^Last-Event-ID: "abc" is not an event id/) })
    expect(parse('?last=-1')).toEqual({ error: expect.stringMatching(/^last: /) })
  })
})

describe('push sink: ring', () => {
  it('keeps the newest entries and finds those after a sequence', () => {
    const r = new Ring(3)
    expect(r.first).toBeUndefined()
    for (let i = 1; i <= 5; i++) r.push(e(i))
    expect(r.first).toBe(3)
    expect(r.after(0).map((x) => x.seq)).toEqual([3, 4, 5])
    expect(r.after(3).map((x) => x.seq)).toEqual([4, 5])
    expect(r.after(5)).toEqual([])
    const none = new Ring(0)
    none.push(e(1))
    expect(none.size).toBe(0)
  })
})

/** A connection whose writability the test controls; frames are collected as the client would read them. */
function fakeTransport(): Transport & { frames: string[]; open: boolean; ended?: boolean; drain(): void; closeCbs: (() => void)[] } {
  let drains: (() => void)[] = []
  const t = {
    kind: 'sse' as const,
    frames: [] as string[],
    open: true,
    ended: undefined as boolean | undefined,
    closeCbs: [] as (() => void)[],
    frame: (x: Entry) => `r${x.seq}`,
    notice: (name: string, data: Record<string, number | string>) => `${name}:${JSON.stringify(data)}`,
    send(frames: string[]) {
      t.frames.push(...frames)
    },
    writable: () => t.open,
    onDrain(cb: () => void) {
      drains.push(cb)
    },
    heartbeat() {},
    close(graceful: boolean) {
      t.ended = graceful
    },
    onClose(cb: () => void) {
      t.closeCbs.push(cb)
    },
    drain() {
      t.open = true
      const d = drains
      drains = []
      d.forEach((f) => f())
    },
  }
  return t
}

describe('push sink: a client behind its connection', () => {
  const counters = () => ({ sent: 0, dropped: 0, slow: 0, closed: 0 })
  const make = (policy: 'drop-oldest' | 'disconnect', t: Transport, c: ReturnType<typeof counters>, filter?: string) =>
    new Subscriber(t, {
      team: 'ops',
      buffer: 4,
      policy,
      filter: filter ? celCompiler.compile(filter) : undefined,
      onSent: (n) => (c.sent += n),
      onDropped: (n) => (c.dropped += n),
      onSlow: () => c.slow++,
      onClosed: () => c.closed++,
    })

  it('drop-oldest: keeps the newest `buffer` records and says how many it dropped before them', async () => {
    const t = fakeTransport()
    const c = counters()
    const s = make('drop-oldest', t, c)
    t.open = false
    for (let i = 1; i <= 10; i++) s.offer(e(i))
    expect(s.queued).toBe(4)
    expect(c.dropped).toBe(6)
    await new Promise((resolve) => setImmediate(resolve))
    expect(t.frames).toEqual([])
    t.drain()
    expect(t.frames).toEqual(['dropped:{"count":6}', 'r7', 'r8', 'r9', 'r10'])
    expect(c.sent).toBe(4)
    expect(s.stats).toEqual({ sent: 4, dropped: 6 })
  })

  it('disconnect: the record that finds the buffer full closes the client, abruptly', () => {
    const t = fakeTransport()
    const c = counters()
    const s = make('disconnect', t, c)
    t.open = false
    for (let i = 1; i <= 10; i++) s.offer(e(i))
    expect(c).toEqual({ sent: 0, dropped: 0, slow: 1, closed: 1 })
    expect(t.ended).toBe(false)
    expect(s.closed).toBe(true)
  })

  it('a client that keeps up gets every record, chunked, never dropped; the filter picks its records', async () => {
    const t = fakeTransport()
    const c = counters()
    const s = make('disconnect', t, c, 'n % 2 == 0')
    for (let i = 1; i <= 1000; i++) s.offer(e(i))
    await new Promise((resolve) => setImmediate(resolve))
    expect(t.frames).toEqual(Array.from({ length: 500 }, (_, i) => `r${2 * (i + 1)}`))
    expect(c).toEqual({ sent: 500, dropped: 0, slow: 0, closed: 0 })
  })

  it('end() writes what waits, then closes gracefully', async () => {
    const t = fakeTransport()
    const c = counters()
    const s = make('drop-oldest', t, c)
    t.open = false
    s.offer(e(1))
    s.offer(e(2))
    const ended = s.end(5000)
    t.drain()
    await ended
    expect(t.frames).toEqual(['r1', 'r2'])
    expect(t.ended).toBe(true)
  })
})
