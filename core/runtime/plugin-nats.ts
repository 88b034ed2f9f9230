import type { NatsConnection } from '@nats-io/nats-core'
import type { NatsConnectOptions, NatsHandle } from '../plugin-api.js'
import { connectNats } from '../nats/connect.js'

/**
 * `ctx.nats()`: the pipeline's own connection (shared, so `close()` leaves it to the runtime) or,
 * when `servers` is given, a new connection with the plugin's auth that `close()` drains.
 */
export async function pluginNats(shared: NatsConnection, opts: NatsConnectOptions = {}, name = 'tributary-plugin'): Promise<NatsHandle> {
  const servers = (Array.isArray(opts.servers) ? opts.servers : (opts.servers ?? '').split(',')).map((s) => s.trim()).filter(Boolean)
  if (servers.length === 0) return { nc: shared, shared: true, close: async () => undefined }
  const cfg = { servers, ...(opts.user !== undefined && { user: opts.user, password: opts.password }), ...(opts.token !== undefined && { token: opts.token }), ...(opts.creds !== undefined && { creds: opts.creds }) }
  const nc = await connectNats(cfg, { name })
  return {
    nc,
    shared: false,
    async close() {
      await nc.drain().catch(() => nc.close())
    },
  }
}
