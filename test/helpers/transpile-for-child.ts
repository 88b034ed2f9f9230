import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import ts from 'typescript'

const root = path.resolve(import.meta.dirname, '../..')

/**
 * Makes a core module importable by a plain `node` child process (Node 20 cannot import .ts):
 * transpiles `entry` and the relative modules its JS really imports into `outDir`, keeping the
 * project layout, and links node_modules there. Used instead of dist/, which may be missing or
 * stale while the tree is being edited. Returns the file URL of the entry's JS.
 */
export async function transpileForChild(entry: string, outDir: string): Promise<string> {
  await mkdir(outDir, { recursive: true })
  await symlink(path.join(root, 'node_modules'), path.join(outDir, 'node_modules'), 'dir').catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err
  })
  const done = new Set<string>()
  const visit = async (file: string): Promise<void> => {
    if (done.has(file)) return
    done.add(file)
    const source = await readFile(file, 'utf8')
    const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 }, fileName: file })
    const out = path.join(outDir, path.relative(root, file)).replace(/\.ts$/, '.js')
    await mkdir(path.dirname(out), { recursive: true })
    await writeFile(out, outputText)
    // Type-only imports are gone from outputText, so only runtime dependencies are followed.
    for (const m of outputText.matchAll(/(?:from|import)\s*\(?\s*'(\.\.?\/[^']+)\.js'/g)) {
      await visit(path.resolve(path.dirname(file), `${m[1]}.ts`))
    }
  }
  const abs = path.resolve(root, entry)
  await visit(abs)
  return pathToFileURL(path.join(outDir, path.relative(root, abs)).replace(/\.ts$/, '.js')).href
}
