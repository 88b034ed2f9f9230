import { execFile, spawn } from 'node:child_process'
import { promisify } from 'node:util'
import { accessSync, constants, openSync, closeSync } from 'node:fs'
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from './free-port.js'

/**
 * A real clickhouse-server (Debian's 18.16 package) for one test file: a temp dir holding its
 * config, data and logs, free loopback ports, its own process group. `stop()` kills it by PID
 * and group and removes the dir; an exit hook does the same if a test run dies first.
 * Debian installs the binary in /usr/sbin; it runs as root or any user, given writable dirs.
 */
export interface ClickHouseServer {
  url: string
  /** With `tls: true`: the https url and the CA file that signed the server's certificate. */
  httpsUrl?: string
  caFile?: string
  readonly pid: number
  dir: string
  stop(): Promise<void>
  /** SIGKILL, data kept (ClickHouse down until restart()). */
  kill9(): Promise<void>
  /** Starts it again on the same data dir and ports. */
  restart(): Promise<void>
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

/** Whether TLS tests can run: certificates are made with the openssl CLI. */
export function opensslAvailable(): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((d) => {
    try {
      accessSync(path.join(d, 'openssl'), constants.X_OK)
      return true
    } catch {
      return false
    }
  })
}

/** A throwaway CA and a server certificate for 127.0.0.1 signed by it. */
async function makeCertificates(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const run = (args: string[]) => promisify(execFile)('openssl', args, { cwd: dir })
  await run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=tributary-test-ca'])
  await run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'])
  await writeFile(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n')
  await run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.ext'])
  return { ca: path.join(dir, 'ca.crt'), cert: path.join(dir, 'server.crt'), key: path.join(dir, 'server.key') }
}

function tlsXml(httpsPort: number, cert: string, key: string): string {
  return `<https_port>${httpsPort}</https_port>
  <openSSL>
    <server>
      <certificateFile>${cert}</certificateFile>
      <privateKeyFile>${key}</privateKeyFile>
      <verificationMode>none</verificationMode>
      <loadDefaultCAFile>false</loadDefaultCAFile>
      <cacheSessions>true</cacheSessions>
      <disableProtocols>sslv2,sslv3</disableProtocols>
      <preferServerCiphers>true</preferServerCiphers>
    </server>
  </openSSL>`
}

function configXml(dir: string, http: number, tcp: number, interserver: number, tls: string): string {
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
  ${tls}
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

export async function startClickHouseServer(opts: { startTimeoutMs?: number; tls?: boolean } = {}): Promise<ClickHouseServer> {
  const bin = findClickHouseServer()
  if (!bin) throw new Error(clickhouseServerSkipReason())
  const dir = await mkdtemp(path.join(tmpdir(), 'trib-chs-'))
  for (const sub of ['log', 'data', 'tmp', 'user_files', 'format_schemas']) await mkdir(path.join(dir, sub))
  const [httpPort, tcpPort, interserverPort] = [await freePort(), await freePort(), await freePort()]
  let tls = ''
  let https: { url: string; ca: string } | undefined
  if (opts.tls) {
    const certs = await makeCertificates(dir)
    const httpsPort = await freePort()
    tls = tlsXml(httpsPort, certs.cert, certs.key)
    https = { url: `https://127.0.0.1:${httpsPort}`, ca: certs.ca }
  }
  await writeFile(path.join(dir, 'config.xml'), configXml(dir, httpPort, tcpPort, interserverPort, tls))
  await writeFile(path.join(dir, 'users.xml'), USERS_XML)

  const url = `http://127.0.0.1:${httpPort}`
  let pid = 0
  let exited: number | null | undefined
  let stopped = false
  const onExit = (): void => killGroup(pid, 'SIGKILL')
  process.on('exit', onExit)

  // Spawns the server on this dir and ports and waits until it answers; used again by restart().
  const launch = async (): Promise<void> => {
    const out = openSync(path.join(dir, 'log', 'stdout.log'), 'a')
    const child = spawn(bin, [`--config-file=${path.join(dir, 'config.xml')}`], { cwd: dir, detached: true, stdio: ['ignore', out, out] })
    closeSync(out)
    if (child.pid === undefined) throw new Error(`could not start ${bin}`)
    pid = child.pid
    child.unref()
    exited = undefined
    child.once('exit', (code) => (exited = code))
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
  }
  const kill9 = async (): Promise<void> => {
    killGroup(pid, 'SIGKILL')
    for (let i = 0; i < 100 && alive(pid); i++) await sleep(50)
  }
  const stop = async (): Promise<void> => {
    if (stopped) return
    stopped = true
    // 18.16 takes ~8 s to stop on SIGTERM; its data is thrown away with the dir, so no grace.
    await kill9()
    process.off('exit', onExit)
    await rm(dir, { recursive: true, force: true })
  }
  await launch()
  return {
    url,
    httpsUrl: https?.url,
    caFile: https?.ca,
    get pid() {
      return pid
    },
    dir,
    stop,
    kill9,
    // Same data dir and ports: for fault tests that stop ClickHouse mid-stream.
    restart: async () => {
      await kill9()
      await launch()
    },
  }
}
