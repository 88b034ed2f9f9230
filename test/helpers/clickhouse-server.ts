import { spawn } from 'node:child_process'
import { accessSync, constants, openSync, closeSync } from 'node:fs'
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

/**
 * A real clickhouse-server (Debian's 18.16 package) for one test file: a temp dir holding its
 * config, data and logs, free loopback ports, its own process group. `stop()` kills it by PID
 * and group and removes the dir; an exit hook does the same if a test run dies first.
 * Debian installs the binary in /usr/sbin; it runs as root or any user, given writable dirs.
 */
export interface ClickHouseServer {
  url: string
  pid: number
  dir: string
  stop(): Promise<void>
}

const CANDIDATES = ['/usr/bin/clickhouse-server', '/usr/sbin/clickhouse-server', '/usr/local/bin/clickhouse-server']

/** The clickhouse-server binary, or undefined when it is not installed. */
export function findClickHouseServer(): string | undefined {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((d) => path.join(d, 'clickhouse-server'))
  for (const file of [...CANDIDATES, ...dirs]) {
    try {
      accessSync(file, constants.X_OK)
      return file
    } catch {
      // next
    }
  }
  return undefined
}

/** Why server tests are skipped, or undefined when they can run. For `describe.skipIf(...)`. */
export function clickhouseServerSkipReason(): string | undefined {
  if (findClickHouseServer()) return undefined
  return 'clickhouse-server is not installed (apt-get install clickhouse-server): ClickHouse server-mode tests are skipped'
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port
      srv.close(() => resolve(port))
    })
  })
}

function configXml(dir: string, http: number, tcp: number, interserver: number): string {
  return `<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>${dir}/log/server.log</log>
    <errorlog>${dir}/log/server.err.log</errorlog>
    <console>0</console>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${http}</http_port>
  <tcp_port>${tcp}</tcp_port>
  <interserver_http_port>${interserver}</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>${dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <max_concurrent_queries>50</max_concurrent_queries>
  <mlock_executable>false</mlock_executable>
</yandex>
`
}

const USERS_XML = `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    try {
      process.kill(pid, signal)
    } catch {
      // already gone
    }
  }
}

async function ping(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) })
    return res.ok && (await res.text()).startsWith('Ok')
  } catch {
    return false
  }
}

export async function startClickHouseServer(opts: { startTimeoutMs?: number } = {}): Promise<ClickHouseServer> {
  const bin = findClickHouseServer()
  if (!bin) throw new Error(clickhouseServerSkipReason())
  const dir = await mkdtemp(path.join(tmpdir(), 'trib-chs-'))
  for (const sub of ['log', 'data', 'tmp', 'user_files', 'format_schemas']) await mkdir(path.join(dir, sub))
  const [httpPort, tcpPort, interserverPort] = [await freePort(), await freePort(), await freePort()]
  await writeFile(path.join(dir, 'config.xml'), configXml(dir, httpPort, tcpPort, interserverPort))
  await writeFile(path.join(dir, 'users.xml'), USERS_XML)

  const out = openSync(path.join(dir, 'log', 'stdout.log'), 'a')
  const child = spawn(bin, [`--config-file=${path.join(dir, 'config.xml')}`], { cwd: dir, detached: true, stdio: ['ignore', out, out] })
  closeSync(out)
  const pid = child.pid
  if (pid === undefined) throw new Error(`could not start ${bin}`)
  child.unref()
  let exited: number | null | undefined
  child.once('exit', (code) => (exited = code))

  let stopped = false
  const onExit = (): void => killGroup(pid, 'SIGKILL')
  process.on('exit', onExit)
  const stop = async (): Promise<void> => {
    if (stopped) return
    stopped = true
    killGroup(pid, 'SIGTERM')
    for (let i = 0; i < 100 && alive(pid); i++) await sleep(100)
    if (alive(pid)) killGroup(pid, 'SIGKILL')
    for (let i = 0; i < 50 && alive(pid); i++) await sleep(100)
    process.off('exit', onExit)
    await rm(dir, { recursive: true, force: true })
  }

  const url = `http://127.0.0.1:${httpPort}`
  const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000)
  while (!(await ping(url))) {
    if (exited !== undefined || Date.now() > deadline) {
      const log = await readFile(path.join(dir, 'log', 'server.err.log'), 'utf8').catch(() => '')
      const stdout = await readFile(path.join(dir, 'log', 'stdout.log'), 'utf8').catch(() => '')
      await stop()
      throw new Error(`clickhouse-server did not answer on ${url} (${exited !== undefined ? `exited with ${exited}` : 'timed out'}):\n${(log + stdout).slice(-2000)}`)
    }
    await sleep(100)
  }
  return { url, pid, dir, stop }
}
