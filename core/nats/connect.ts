import { readFile } from 'node:fs/promises'
import { connect } from '@nats-io/transport-node'
import { credsAuthenticator, errors, nkeyAuthenticator, type Authenticator, type ConnectionOptions, type NatsConnection } from '@nats-io/nats-core'
import { TributaryError } from '../errors.js'
import type { NatsConnectionConfig } from '../pipeline/types.js'
import { normalizeNatsConfig } from './server-list.js'

export interface ConnectNatsOptions {
  /** Client name shown in the server's monitoring. */
  name?: string
  /** Handshake timeout per server, ms (client default 20 s). */
  timeoutMs?: number
}

/**
 * Connects with every auth the config gives (user/password, token, creds file, nkey seed file,
 * TLS). Once connected the client reconnects forever: a restarted server must not end a
 * pipeline. A failed first connect fails at once with E_NATS; secrets never reach the message.
 */
export async function connectNats(cfg: NatsConnectionConfig, opts: ConnectNatsOptions = {}): Promise<NatsConnection> {
  const c = normalizeNatsConfig(cfg)
  const where = c.servers.join(', ') || '127.0.0.1:4222'
  // The client copies every key over its defaults, so unset options must be absent, not undefined.
  const options: ConnectionOptions = {
    servers: c.servers,
    noAsyncTraces: true, // FACTS: js.publish 26k → 48k/s
    maxReconnectAttempts: -1,
    waitOnFirstConnect: false,
  }
  if (opts.name) options.name = opts.name
  if (opts.timeoutMs) options.timeout = opts.timeoutMs
  if (c.user !== undefined) Object.assign(options, { user: c.user, pass: c.password ?? '' })
  if (c.token !== undefined) options.token = c.token
  const authenticators = await fileAuthenticators(c)
  if (authenticators.length) options.authenticator = authenticators
  if (c.tls) options.tls = await tlsOptions(c.tls)
  try {
    return await connect(options)
  } catch (err) {
    throw connectError(where, err, [c.password, c.token])
  }
}

async function fileAuthenticators(c: NatsConnectionConfig): Promise<Authenticator[]> {
  const out: Authenticator[] = []
  if (c.creds) out.push(credsAuthenticator(await readSecretFile(c.creds, 'creds')))
  // A seed file is text; the authenticator wants the seed's bytes without the newline.
  if (c.nkey) out.push(nkeyAuthenticator(new TextEncoder().encode(new TextDecoder().decode(await readSecretFile(c.nkey, 'nkey seed')).trim())))
  return out
}

async function tlsOptions(tls: NonNullable<NatsConnectionConfig['tls']>): Promise<NonNullable<ConnectionOptions['tls']>> {
  const out: NonNullable<ConnectionOptions['tls']> = {}
  // Read here, not by the transport, so a bad path is a clear error before any network traffic.
  if (tls.ca) out.ca = new TextDecoder().decode(await readSecretFile(tls.ca, 'TLS CA'))
  if (tls.cert) out.cert = new TextDecoder().decode(await readSecretFile(tls.cert, 'TLS certificate'))
  if (tls.key) out.key = new TextDecoder().decode(await readSecretFile(tls.key, 'TLS key'))
  return out
}

async function readSecretFile(file: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(file))
  } catch (err) {
    throw new TributaryError('E_FILE', `cannot read the NATS ${what} file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      hint: `check the path in the pipeline file's \`nats\` block`,
      cause: err,
    })
  }
}

function connectError(where: string, err: unknown, secrets: (string | undefined)[]): TributaryError {
  let reason = err instanceof Error ? err.message : String(err)
  for (const s of secrets) if (s) reason = reason.split(s).join('***')
  let hint: string
  if (err instanceof errors.AuthorizationError) {
    hint = 'check the NATS credentials (user/password, token, creds or nkey file) for this server'
  } else if (err instanceof errors.ConnectionError || (err as NodeJS.ErrnoException).code === 'ENOTFOUND') {
    hint = 'is a nats-server running there? Check the URL, start one with `tributary up`, or drop --nats / NATS_URL to let Tributary start a private server'
  } else {
    hint = 'check the server URL(s) and the TLS settings'
  }
  return new TributaryError('E_NATS', `cannot connect to NATS at ${where}: ${reason}`, { hint, cause: err })
}
