import { setTimeout as sleep } from 'node:timers/promises'
import { TributaryError } from '../errors.js'
import { homePaths } from '../home/paths.js'
import type { ClickHouse, InsertOptions, JsonObject, JsonPrimitive } from '../plugin-api.js'
import { ChdbLockedError, chdbHolder, openChdb, type EmbeddedClickHouse } from './embedded.js'
import { ClickHouseFailure } from './errors.js'
import { serveOwner, type OwnerServer } from './owner.js'
import { checkSocketPath } from './protocol.js'
import { OwnerUnreachableError, connectProxy, type ProxyClickHouse } from './proxy.js'
import { ClickHouseHandle } from './handle-base.js'

/**
 * Embedded ClickHouse for a home, whichever process owns it. chDB lets one process hold a data
 * directory, so the first process to need it becomes the owner and serves the others over the
 * home's socket; the others are proxies. Resolution: an answering socket → proxy; else open
 * chDB → owner (serving); chDB locked → someone is becoming owner, so retry the socket for a
 * while. When an owner exits, a proxy's next call resolves again, transparently, so a long
 * pipeline outlives a short `tributary query` that happened to be the owner.
 * chDB's lock (not this code) guarantees that two processes never open one directory.
 */
export interface EmbeddedHomeOptions {
  /** How long to wait for a process that holds chDB to start serving. */
  lockWaitMs?: number
}

type State = { kind: 'owner'; ch: EmbeddedClickHouse; server: OwnerServer } | { kind: 'proxy'; ch: ProxyClickHouse }

export async function openEmbedded(home: string, opts: EmbeddedHomeOptions = {}): Promise<ClickHouse> {
  const handle = new HomeHandle(home, opts.lockWaitMs ?? 15_000)
  await handle.current()
  return handle
}

async function resolveState(home: string, lockWaitMs: number): Promise<State> {
  const paths = homePaths(home)
  checkSocketPath(paths.clickhouseSocket)
  const deadline = Date.now() + lockWaitMs
  for (let pause = 25; ; pause = Math.min(pause * 2, 250)) {
    const proxy = await connectProxy(paths.clickhouseSocket)
    if (proxy) return { kind: 'proxy', ch: proxy }
    // A live holder is becoming owner: wait for its socket rather than have chDB fail (and print
    // "Cannot lock file" on stderr) again. Past the deadline, one real attempt gives the error.
    if (Date.now() < deadline && (await chdbHolder(paths.clickhouseData)) !== undefined) {
      await sleep(pause)
      continue
    }
    let ch: EmbeddedClickHouse
    try {
      ch = await openChdb(paths.clickhouseData)
    } catch (err) {
      if (err instanceof ChdbLockedError && Date.now() < deadline) {
        await sleep(pause)
        continue
      }
      throw err
    }
    try {
      return { kind: 'owner', ch, server: await serveOwner(ch, paths.clickhouseSocket) }
    } catch (err) {
      await ch.close()
      throw err
    }
  }
}

class HomeHandle extends ClickHouseHandle implements ClickHouse {
  #state?: State
  #resolving?: Promise<State>
  #closed = false

  constructor(
    private readonly home: string,
    private readonly lockWaitMs: number,
  ) {
    super()
  }

  get mode(): 'embedded' | 'proxy' {
    return this.#state?.kind === 'owner' ? 'embedded' : 'proxy'
  }

  /** The current owner or proxy; resolves once at a time however many calls wait. */
  current(): Promise<State> {
    if (this.#closed) return Promise.reject(new TributaryError('E_CLICKHOUSE', 'this ClickHouse handle is closed', { hint: 'open it again with openClickHouse()' }))
    if (this.#state) return Promise.resolve(this.#state)
    this.#resolving ??= resolveState(this.home, this.lockWaitMs).then(
      (s) => {
        this.#state = s
        this.#resolving = undefined
        return s
      },
      (err: unknown) => {
        this.#resolving = undefined
        throw err
      },
    )
    return this.#resolving
  }

  /**
   * Runs `op` on the current owner or proxy. If the owner went away before the request reached
   * it, resolve again and retry. If it went away mid-request, only idempotent reads retry:
   * an insert or DDL may have been applied, and the caller must decide.
   */
  async #run<T>(op: (ch: ClickHouse) => Promise<T>, idempotent: boolean, what: string): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const state = await this.current()
      try {
        return await op(state.ch)
      } catch (err) {
        if (!(err instanceof OwnerUnreachableError)) throw err
        if (this.#state === state) this.#state = undefined
        if (attempt >= 3) throw err
        if (err.sent && !idempotent) {
          throw new ClickHouseFailure(`the process that owned embedded ClickHouse (pid ${(state.ch as ProxyClickHouse).ownerPid}) exited during the ${what}; it may or may not have been applied`, {
            hint: 'retry it: the next call reaches ClickHouse again (inserts with a deduplication token are safe to repeat)',
            cause: err,
            unavailable: true,
          })
        }
      }
    }
  }

  query<T extends JsonObject = JsonObject>(sql: string, params?: Record<string, JsonPrimitive>): Promise<T[]> {
    return this.#run((ch) => ch.query<T>(sql, params), true, 'query')
  }

  command(sql: string, params?: Record<string, JsonPrimitive>): Promise<void> {
    return this.#run((ch) => ch.command(sql, params), false, 'statement')
  }

  insert(table: string, rows: readonly JsonObject[], opts?: InsertOptions): Promise<void> {
    return this.#run((ch) => ch.insert(table, rows, opts), false, 'insert')
  }

  version(): Promise<string> {
    return this.#run((ch) => ch.version(), true, 'version query')
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    const state = this.#state ?? (await this.#resolving?.catch(() => undefined))
    this.#state = undefined
    if (state?.kind === 'owner') {
      // Stop serving first: proxies then re-resolve, and none can open chDB before we close it.
      try {
        await state.server.close()
      } finally {
        await state.ch.close()
      }
    }
  }
}
