import type { WebSocket } from 'ws'
import { CONNECTION_BYTES, type Transport } from './transport.js'

/** WebSocket: one text message per record, `{"id":<position>,"record":{…}}`; notices are `{"event":…}`. */
export function wsTransport(ws: WebSocket): Transport {
  let drainWaiters: (() => void)[] = []
  // Each send's callback runs once its bytes are handed to the network: the moment to look again.
  const sent = (): void => {
    if (drainWaiters.length === 0 || ws.bufferedAmount >= CONNECTION_BYTES) return
    const w = drainWaiters
    drainWaiters = []
    for (const f of w) f()
  }
  return {
    kind: 'ws',
    frame: (e) => e.ws,
    notice: (name, data) => JSON.stringify({ event: name, ...data }),
    send(frames) {
      for (const f of frames) ws.send(f, sent)
    },
    writable: () => ws.readyState === ws.OPEN && ws.bufferedAmount < CONNECTION_BYTES,
    onDrain(cb) {
      drainWaiters.push(cb)
    },
    heartbeat() {
      ws.ping()
    },
    close(graceful) {
      if (graceful) ws.close(1001, 'channel closing')
      else ws.terminate()
    },
    onClose(cb) {
      ws.once('close', cb)
    },
  }
}
