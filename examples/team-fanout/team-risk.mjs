#!/usr/bin/env node
// The second team's side: a plain NATS subscriber that knows nothing of Tributary. It prints every
// message on `teams.risk.>` with its subject and the Nats-Msg-Id header the pipeline set.
//
// Usage: NATS_URL=nats://127.0.0.1:4222 node team-risk.mjs
// It imports the NATS client from this repository's node_modules (run it from inside the clone).
import { connect } from '@nats-io/transport-node'

const nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' })
const sub = nc.subscribe('teams.risk.>')
// Flushed: the server has the subscription before we say we listen, so nothing published after
// that line is missed (core NATS keeps nothing for subscribers that are not there yet).
await nc.flush()
console.log('team-risk: listening on teams.risk.>')
// Nothing to flush on the way out (it only reads), and the server may be stopping too: just exit.
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0))

for await (const m of sub) {
  console.log(`team-risk: ${m.subject} ${m.string()}  [${m.headers?.get('Nats-Msg-Id') ?? 'no id'}]`)
}
