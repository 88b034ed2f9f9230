import type { Entry } from './entry.js'

/**
 * One client connection as the subscriber sees it, whatever the protocol (SSE or WebSocket).
 * `writable()` is false while the connection holds more than `CONNECTION_BYTES` it could not yet
 * hand to the network: the client is behind, and what arrives waits in the subscriber's bounded
 * queue instead.
 */
export interface Transport {
  readonly kind: 'sse' | 'ws'
  frame(e: Entry): string
  notice(name: string, data: Record<string, number | string>): string
  send(frames: string[]): void
  writable(): boolean
  /** Called once, when the connection has room again after `writable()` was false. */
  onDrain(cb: () => void): void
  heartbeat(): void
  /** Graceful: after what was sent; otherwise at once (a stuck client cannot take a goodbye). */
  close(graceful: boolean): void
  onClose(cb: () => void): void
}

/**
 * Bytes a connection may hold unsent before the client counts as behind. Large enough that a
 * burst of records to a healthy client never waits in the queue; small next to the kernel's
 * own socket buffers.
 */
export const CONNECTION_BYTES = 256 * 1024
