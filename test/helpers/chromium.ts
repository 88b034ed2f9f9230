/**
 * Debian's headless Chromium (`apt-get install chromium`; scripts/setup.sh --test installs it)
 * for browser tests: started by us with a new empty profile and a DevTools port it picks itself,
 * driven by playwright-core over CDP, stopped by its PID.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { chromium, type Browser } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'

export interface TestChromium {
  browser: Browser
  pid: number
  /** Disconnects, SIGTERM to the browser (SIGKILL after a grace period), removes the profile. */
  stop(): Promise<void>
}

export async function startChromium(): Promise<TestChromium> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install it with \`apt-get install -y chromium\` (scripts/setup.sh --test does)`)
  const profile = await mkdtemp(path.join(tmpdir(), 'trib-chromium-'))
  const child: ChildProcess = spawn(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profile}`,
      '--remote-debugging-address=127.0.0.1',
      '--remote-debugging-port=0',
      'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(child.pid, 'SIGTERM')
      const grace = setTimeout(() => child.exitCode === null && child.signalCode === null && process.kill(child.pid!, 'SIGKILL'), 5000)
      await exited
      clearTimeout(grace)
    }
    await rm(profile, { recursive: true, force: true })
  }
  try {
    const endpoint = await new Promise<string>((resolve, reject) => {
      let err = ''
      const timer = setTimeout(() => reject(new Error(`chromium did not open its DevTools port within 30 s:\n${err}`)), 30_000)
      child.stderr!.setEncoding('utf8')
      child.stderr!.on('data', (d: string) => {
        err += d
        const m = /DevTools listening on (ws:\/\/\S+)/.exec(err)
        if (m) {
          clearTimeout(timer)
          resolve(m[1]!)
        }
      })
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`chromium exited (${code}) before opening its DevTools port:\n${err}`))
      })
    })
    const browser = await chromium.connectOverCDP(endpoint)
    return {
      browser,
      pid: child.pid!,
      stop: async () => {
        await browser.close().catch(() => undefined)
        await kill()
      },
    }
  } catch (err) {
    await kill()
    throw err
  }
}
