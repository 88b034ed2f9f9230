/**
 * Tests of examples/<name>: they run the commands its README shows and check the output against
 * the README's own code blocks, so a README cannot drift from what the example does.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { cp, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { repoRoot, waitFor } from './cli.js'

export const examplesDir = path.join(repoRoot, 'examples')

/** The example's README. */
export function readExampleReadme(name: string): Promise<string> {
  return readFile(path.join(examplesDir, name, 'README.md'), 'utf8')
}

/** The contents of the fenced code blocks of a Markdown text, without their final newline. */
export function fencedBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```[^\n]*\n([\s\S]*?)^```$/gm)].map((m) => m[1]!.replace(/\n$/, ''))
}

/** The last line a command wrote (its summary line: `run` logs before it). */
export function lastLine(text: string): string {
  return text.trimEnd().split('\n').at(-1) ?? ''
}

export interface Edit {
  file: string
  from: string
  to: string
}

/**
 * Copies examples/<name> to `<dest>/<name>` and applies `edits` there (fixed ports become free
 * ones; nothing else changes). Each `from` must occur in its file, so an edit of the example that
 * moves a port fails here instead of testing something else. Returns the copy's folder.
 */
export async function copyExample(name: string, dest: string, edits: Edit[] = []): Promise<string> {
  const dir = path.join(dest, name)
  await cp(path.join(examplesDir, name), dir, { recursive: true, filter: (src) => path.basename(src) !== 'out' })
  for (const e of edits) {
    const file = path.join(dir, e.file)
    const text = await readFile(file, 'utf8')
    if (!text.includes(e.from)) throw new Error(`examples/${name}/${e.file} no longer contains ${JSON.stringify(e.from)}: update its test`)
    await writeFile(file, text.split(e.from).join(e.to))
  }
  return dir
}

export interface Script {
  child: ChildProcess
  /** Lines printed on stdout so far. */
  lines(): string[]
  stderr(): string
  exited: Promise<number | null>
}

/** Starts one of an example's helper scripts (`node <file> ...args`); the caller stops it by PID. */
export function spawnScript(file: string, args: string[], env: NodeJS.ProcessEnv): Script {
  const child = spawn(process.execPath, [file, ...args], { env, cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  return { child, lines: () => out.split('\n').filter((l) => l !== ''), stderr: () => err, exited }
}

/** SIGTERM to a process we started, by its PID, if it still runs. */
export function stopByPid(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): void {
  if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(child.pid, signal)
    } catch {
      // already gone
    }
  }
}

/** `curl --retry-connrefused --data-binary @file URL`: POST the file, retrying until the port listens. */
export async function postUntilListening(url: string, body: Buffer): Promise<{ status: number; text: string }> {
  return waitFor('the http source to answer', async () => {
    try {
      const res = await fetch(url, { method: 'POST', body })
      return { status: res.status, text: await res.text() }
    } catch (err) {
      if ((err as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED') return undefined
      throw err
    }
  })
}
