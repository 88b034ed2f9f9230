import path from 'node:path'

/** Where a Tributary home keeps things. One place, so every process agrees. */
export interface HomePaths {
  root: string
  /** JetStream store of the local nats-server (`up` or private). */
  natsStore: string
  /** State of the local nats-server: pid, port, mode; lock and users live beside it. */
  natsDir: string
  /** Embedded ClickHouse (chDB) data directory. */
  clickhouseData: string
  /** Unix socket on which the chDB owner serves other processes of this home. */
  clickhouseSocket: string
  plugins: string
  logs: string
}

export function resolveHome(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(flag ?? env.TRIBUTARY_HOME ?? '.tributary')
}

export function homePaths(root: string): HomePaths {
  const abs = path.resolve(root)
  return {
    root: abs,
    natsDir: path.join(abs, 'nats'),
    natsStore: path.join(abs, 'nats', 'store'),
    clickhouseData: path.join(abs, 'clickhouse'),
    clickhouseSocket: path.join(abs, 'clickhouse.sock'),
    plugins: path.join(abs, 'plugins'),
    logs: path.join(abs, 'logs'),
  }
}
