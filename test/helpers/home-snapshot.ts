import { existsSync } from 'node:fs'
import { lstat, readFile, readdir, readlink } from 'node:fs/promises'
import path from 'node:path'

/**
 * Every path under a folder (symlinks recorded with their target, not followed) and the plugin
 * lockfile's text: two snapshots are equal when nothing on disk changed.
 */
export async function snapshotHome(home: string): Promise<{ paths: string[]; lock: string | undefined }> {
  const paths: string[] = []
  const walk = async (dir: string): Promise<void> => {
    if (!existsSync(dir)) return
    for (const name of (await readdir(dir)).sort()) {
      const p = path.join(dir, name)
      const st = await lstat(p)
      const rel = path.relative(home, p)
      if (st.isSymbolicLink()) paths.push(`${rel} -> ${await readlink(p)}`)
      else if (st.isDirectory()) {
        paths.push(`${rel}/`)
        await walk(p)
      } else paths.push(rel)
    }
  }
  await walk(home)
  const lockFile = path.join(home, 'plugins', 'tributary-lock.json')
  return { paths, lock: existsSync(lockFile) ? await readFile(lockFile, 'utf8') : undefined }
}
