import type { NatsConnection } from '@nats-io/nats-core'
import type { NatsOrigin } from '../nats/types.js'
import { Session } from './session.js'

const WHERE: Record<NatsOrigin, string> = {
  flag: 'the NATS server given by --nats',
  env: 'the NATS server in NATS_URL',
  file: 'the NATS server of the pipeline file',
  up: 'the home’s `up` NATS server',
  private: 'the home’s NATS store',
}

/** The NATS server a command used, in words, for "pipeline x has no stream on …" errors. */
export function describeNats(origin: string): string {
  return WHERE[origin as NatsOrigin] ?? `the NATS server (${origin})`
}

/**
 * Runs `fn` with NATS found the way `run` finds it (--nats, NATS_URL, the `up` server, else a
 * private server on the home's store), so pipeline commands work after `run` exited. Everything
 * is released afterwards, a private server included.
 */
export async function withNats<T>(opts: { home: string; nats?: string; env?: NodeJS.ProcessEnv }, fn: (nc: NatsConnection, where: string, session: Session) => Promise<T>): Promise<T> {
  const session = new Session({ home: opts.home, nats: opts.nats, env: opts.env })
  try {
    const { nc, origin } = await session.nats()
    return await fn(nc, describeNats(origin), session)
  } finally {
    await session.close()
  }
}
