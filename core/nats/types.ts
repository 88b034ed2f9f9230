import type { NatsConnectionConfig } from '../pipeline/types.js'

/** `up`: persistent, stopped by `down`. `private`: started for commands, stopped by its last user. */
export type LocalServerMode = 'up' | 'private'

/** Where a command's NATS came from (DESIGN §6), in precedence order. */
export type NatsOrigin = 'flag' | 'env' | 'file' | LocalServerMode

/** Contents of `<natsDir>/server.json`: the one local nats-server of a home. */
export interface ServerState {
  pid: number
  port: number
  url: string
  mode: LocalServerMode
  /** ISO time. */
  startedAt: string
  /** JetStream store directory (also how we recognise the process in /proc). */
  store: string
}

export interface ServerStatus {
  running: boolean
  pid?: number
  port?: number
  url?: string
  mode?: LocalServerMode
  startedAt?: string
  store: string
  /** Live processes registered as users of a private server. */
  users: number
}

/** A local server a process is using; `release()` is idempotent. */
export interface LocalServerLease {
  url: string
  pid: number
  mode: LocalServerMode
  release(): Promise<void>
}

export interface ResolvedNats {
  config: NatsConnectionConfig
  origin: NatsOrigin
  /** Stops a private server when this was its last user; a no-op otherwise. */
  release(): Promise<void>
}

/** The subset of a pino logger these modules use. */
export interface LogLike {
  debug(obj: object, msg?: string): void
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
}
