import { readFile, rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { ServerState } from './types.js'

/** `<natsDir>/server.json`: which nats-server serves a home. Written only under the home's lock. */

export function stateFile(natsDir: string): string {
  return path.join(natsDir, 'server.json')
}

/** The recorded server, or undefined when there is none or the file is unreadable. */
export async function readState(natsDir: string): Promise<ServerState | undefined> {
  try {
    const s = JSON.parse(await readFile(stateFile(natsDir), 'utf8')) as Partial<ServerState>
    const valid = typeof s.pid === 'number' && typeof s.port === 'number' && typeof s.url === 'string' && (s.mode === 'up' || s.mode === 'private') && typeof s.store === 'string'
    return valid ? (s as ServerState) : undefined
  } catch {
    return undefined
  }
}

/** Write-then-rename, so a reader never sees half a file. */
export async function writeState(natsDir: string, state: ServerState): Promise<void> {
  const tmp = `${stateFile(natsDir)}.${process.pid}.tmp`
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`)
  await rename(tmp, stateFile(natsDir))
}

export async function removeState(natsDir: string): Promise<void> {
  await rm(stateFile(natsDir), { force: true })
}
