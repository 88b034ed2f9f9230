import { mkdir, realpath } from 'node:fs/promises'
import path from 'node:path'
import { TributaryError } from '../errors.js'
import { homePaths } from '../home/paths.js'
import { withFileLock } from './file-lock.js'
import { isNatsServerOn, natsServersOn, terminate } from './process.js'
import { readState, removeState, writeState } from './server-state.js'
import { acceptsClients, readPortsFile, removePortsFile, spawnNatsServer } from './spawn-server.js'
import type { LocalServerLease, LocalServerMode, LogLike, ServerState, ServerStatus } from './types.js'
import { liveUsers, registerUser, unregisterUser } from './users.js'

/**
 * The one local nats-server of a Tributary home, shared by every process on that home.
 *
 * `up` starts a persistent server; otherwise the first command that needs NATS starts a private
 * one and the last of its users stops it. Every start, join, leave and stop happens under
 * `<natsDir>/server.lock`, so racing processes never put two servers on one store (nats-server
 * 2.9 does not lock its store itself). Both kinds run detached: a Ctrl-C sent to the terminal's
 * process group must not kill the server while the command is still draining into it.
 *
 * Callers `release()` in `finally`. A user that dies without releasing (SIGKILL) leaves a user
 * file with a dead pid, which no longer counts; the server it leaves is reused by the next command
 * and stopped when that one releases.
 */

interface LocalPaths {
  dir: string
  store: string
  lock: string
  log: string
  users: string
  ports: string
}

/**
 * Real paths: the store path is how a server is recognised in /proc, so two spellings of one home
 * (a symlink, a relative path) must agree, or a second server would be started on the same store.
 */
async function localPaths(home: string, create = true): Promise<LocalPaths> {
  const { natsDir, natsStore } = homePaths(home)
  if (create) await mkdir(natsDir, { recursive: true })
  const dir = await realpath(natsDir).catch(() => natsDir)
  return {
    dir,
    store: path.join(dir, path.relative(natsDir, natsStore)),
    lock: path.join(dir, 'server.lock'),
    log: path.join(dir, 'server.log'),
    users: path.join(dir, 'users'),
    ports: path.join(dir, 'ports'),
  }
}

/** The `up` server if one runs, else a private server shared with the home's other commands. */
export async function acquireLocalServer(home: string, opts: { log?: LogLike } = {}): Promise<LocalServerLease> {
  const p = await localPaths(home)
  const { state, userFile, started } = await withFileLock(p.lock, async () => {
    let state = (await recordedServer(p)) ?? (await adoptOrphan(p, opts.log))
    const started = !state
    state ??= await startServer(p, 'private')
    const userFile = state.mode === 'private' ? await registerUser(p.users, state.pid) : undefined
    return { state, userFile, started }
  })
  const fields = { pid: state.pid, url: state.url, mode: state.mode, store: p.store }
  if (started) opts.log?.info(fields, 'started a private nats-server for this command')
  else opts.log?.debug(fields, `using the ${state.mode} nats-server of this home`)
  let released: Promise<void> | undefined
  return {
    url: state.url,
    pid: state.pid,
    mode: state.mode,
    release: () => (released ??= userFile ? leave(p, state.pid, userFile, opts.log) : Promise.resolve()),
  }
}

/** `tributary up`: a persistent server. A running private server is promoted instead of doubled. */
export async function startUpServer(home: string, opts: { log?: LogLike } = {}): Promise<ServerStatus & ServerState> {
  const p = await localPaths(home)
  const state = await withFileLock(p.lock, async () => {
    const live = (await recordedServer(p)) ?? (await adoptOrphan(p, opts.log))
    if (!live) return startServer(p, 'up')
    if (live.mode === 'private') {
      const promoted: ServerState = { ...live, mode: 'up' }
      await writeState(p.dir, promoted)
      return promoted
    }
    return live
  })
  return { ...state, running: true, users: (await liveUsers(p.users, state.pid, false)).length }
}

/**
 * `tributary down`: stops the home's server, `up` or private (left by a crashed command), and any
 * unrecorded nats-server on its store. SIGTERM, then SIGKILL after a grace period.
 */
export async function stopServer(home: string, opts: { graceMs?: number } = {}): Promise<{ stopped: boolean; pid?: number; mode?: LocalServerMode }> {
  const p = await localPaths(home)
  return withFileLock(p.lock, async () => {
    const state = await readState(p.dir)
    const pids = new Set(natsServersOn(p.store))
    if (state && isNatsServerOn(state.pid, p.store)) pids.add(state.pid)
    for (const pid of pids) await stopPid(p, pid, opts.graceMs)
    await removeState(p.dir)
    const pid = state && pids.has(state.pid) ? state.pid : [...pids][0]
    return { stopped: pids.size > 0, pid, mode: pid === state?.pid ? state?.mode : undefined }
  })
}

export async function serverStatus(home: string): Promise<ServerStatus> {
  const p = await localPaths(home, false)
  const state = await readState(p.dir)
  if (!state || state.store !== p.store || !isNatsServerOn(state.pid, p.store)) return { running: false, store: p.store, users: 0 }
  return { running: true, ...state, users: (await liveUsers(p.users, state.pid, false)).length }
}

/**
 * The recorded server if it is really ours. A dead pid, or one reused by another process, is
 * forgotten, never signalled.
 */
async function recordedServer(p: LocalPaths): Promise<ServerState | undefined> {
  const state = await readState(p.dir)
  if (!state) return undefined
  if (state.store === p.store && isNatsServerOn(state.pid, p.store)) return state
  await removeState(p.dir)
  await removePortsFile(p.ports, state.pid)
  return undefined
}

/**
 * A nats-server on our store that no state file records: its starter died between spawn and
 * writing the state. Adopt one that answers (as private, so it is stopped at the end); stop the
 * rest, so the store never has two servers.
 */
async function adoptOrphan(p: LocalPaths, log?: LogLike): Promise<ServerState | undefined> {
  let adopted: ServerState | undefined
  for (const pid of natsServersOn(p.store)) {
    const port = adopted ? undefined : await readPortsFile(p.ports, pid)
    if (port !== undefined && (await acceptsClients(port))) {
      adopted = { pid, port, url: `nats://127.0.0.1:${port}`, mode: 'private', startedAt: new Date().toISOString(), store: p.store }
      await writeState(p.dir, adopted)
      log?.warn({ pid, url: adopted.url }, 'adopted an unrecorded nats-server running on this home')
    } else {
      await stopPid(p, pid)
    }
  }
  return adopted
}

async function startServer(p: LocalPaths, mode: LocalServerMode): Promise<ServerState> {
  const s = await spawnNatsServer({ store: p.store, portsDir: p.ports, logFile: p.log, detached: true })
  const state: ServerState = { pid: s.pid, port: s.port, url: s.url, mode, startedAt: new Date().toISOString(), store: p.store }
  await writeState(p.dir, state)
  return state
}

/** Drops a lease; the last live user of a private server stops it (under the lock, so no one joins a dying server). */
async function leave(p: LocalPaths, serverPid: number, userFile: string, log?: LogLike): Promise<void> {
  await withFileLock(p.lock, async () => {
    await unregisterUser(userFile)
    const state = await readState(p.dir)
    // Promoted by `up`, stopped by `down`, or replaced: not ours to stop.
    if (!state || state.pid !== serverPid || state.mode !== 'private') return
    if ((await liveUsers(p.users, serverPid)).length > 0) return
    if (isNatsServerOn(serverPid, p.store)) await stopPid(p, serverPid)
    await removeState(p.dir)
    log?.debug({ pid: serverPid }, 'stopped the private nats-server (last user)')
  })
}

async function stopPid(p: LocalPaths, pid: number, graceMs?: number): Promise<void> {
  if (!(await terminate(pid, graceMs))) {
    throw new TributaryError('E_NATS_SERVER', `nats-server (pid ${pid}) did not exit after SIGKILL`, { hint: `check the process with \`ps -p ${pid}\`` })
  }
  await removePortsFile(p.ports, pid)
}
