// Built-in plugins are loaded from dist/plugins/<name>/ (compiled index.js): their manifests
// and READMEs travel with them.
import { cpSync, existsSync, readdirSync } from 'node:fs'
import path from 'node:path'

const root = path.resolve(import.meta.dirname, '..')
for (const name of readdirSync(path.join(root, 'plugins'))) {
  for (const file of ['plugin.json', 'README.md']) {
    const from = path.join(root, 'plugins', name, file)
    if (existsSync(from)) cpSync(from, path.join(root, 'dist', 'plugins', name, file))
  }
}
