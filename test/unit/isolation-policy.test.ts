import { describe, expect, it } from 'vitest'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { allowedBy, hostPort, parseHostRule } from '../../core/isolation/host-rules.js'
import { sandboxPolicy } from '../../core/isolation/policy.js'
import { bwrapArgs, nodeArgs, pluginCodeDir } from '../../core/isolation/sandbox-command.js'
import { acceptedPermissions } from '../../core/isolation/accepted.js'
import { permissionMessage } from '../../core/isolation/error-codec.js'
import { readPlugin } from '../../core/plugins/registry.js'

describe('network permission rules', () => {
  const rules = ['api.example.com:443', '*.internal.example', '10.0.0.7:5432', '[::1]:8080', 'LocalHost'].map(parseHostRule)

  it('allow a declared host on its port, any port when none is given', () => {
    expect(allowedBy(rules, 'api.example.com', 443)?.text).toBe('api.example.com:443')
    expect(allowedBy(rules, 'API.example.com.', 443)?.text).toBe('api.example.com:443')
    expect(allowedBy(rules, 'api.example.com', 80)).toBeUndefined()
    expect(allowedBy(rules, 'localhost', 1234)?.text).toBe('LocalHost')
    expect(allowedBy(rules, '[::1]', 8080)?.text).toBe('[::1]:8080')
  })

  it('a wildcard covers subdomains, never the domain itself nor an IP; a name never covers an address', () => {
    expect(allowedBy(rules, 'db.internal.example', 5432)?.text).toBe('*.internal.example')
    expect(allowedBy(rules, 'internal.example', 5432)).toBeUndefined()
    expect(allowedBy(rules, '10.0.0.7', 5432)?.text).toBe('10.0.0.7:5432')
    expect(allowedBy(rules, '10.0.0.8', 5432)).toBeUndefined()
    expect(allowedBy(rules, '127.0.0.1', 1234)).toBeUndefined()
  })

  it('print host:port as a permission is written', () => {
    expect(hostPort('::1', 80)).toBe('[::1]:80')
    expect(hostPort('Example.COM', 80)).toBe('example.com:80')
  })
})

describe('sandbox policy', () => {
  it('makes paths absolute: relative to the pipeline folder, ~ to the user home, ${config.x} to the stage config', () => {
    const p = sandboxPolicy(
      { read: ['data', '/etc/ssl/certs', '~/maps', '${config.db}', '${config.missing}'], write: ['${config.out}'], env: ['TOKEN'], spawn: true, network: ['a.example:1'] },
      { baseDir: '/srv/pipe', config: { db: '/data/geo.mmdb', out: '/srv/pipe/out' } },
    )
    expect(p.read).toEqual(['/srv/pipe/data', '/etc/ssl/certs', path.join(os.homedir(), 'maps'), '/data/geo.mmdb', '/srv/pipe/out'])
    expect(p.write).toEqual(['/srv/pipe/out'])
    expect(p).toMatchObject({ env: ['TOKEN'], spawn: true, workers: false, addons: false })
    expect(p.network).toEqual([{ host: 'a.example', wildcard: false, port: 1, text: 'a.example:1' }])
  })

  it('gives Node exactly the declared rights, and bubblewrap new namespaces with only the needed paths', () => {
    const policy = sandboxPolicy({ read: ['/data'], write: ['/out'] }, { baseDir: '/', config: {} })
    const layout = { installRoot: '/opt/trib', codeDir: '/home/u/.tributary/plugins.d/g-1/node_modules', childMain: '/opt/trib/dist/core/isolation/child/main.js', proxySocket: '/tmp/trib-net-x/proxy.sock', nodeBinary: process.execPath }
    const node = nodeArgs(policy, layout)
    expect(node).toContain('--experimental-permission')
    expect(node).toContain('--allow-fs-read=/data')
    expect(node).toContain('--allow-fs-write=/out')
    expect(node.some((a) => /allow-(child-process|worker|addons)/.test(a))).toBe(false)
    expect(node.at(-1)).toBe(layout.childMain)
    expect(nodeArgs(sandboxPolicy({ spawn: true, workers: true, addons: true }, { baseDir: '/', config: {} }), layout)).toEqual(expect.arrayContaining(['--allow-child-process', '--allow-worker', '--allow-addons']))
    const bw = bwrapArgs(policy, layout)
    expect(bw.slice(0, 6)).toEqual(['--unshare-all', '--die-with-parent', '--new-session', '--cap-drop', 'ALL', '--hostname'])
    const binds = (flag: string): string[] => bw.flatMap((a, i) => (a === flag ? [bw[i + 1]!] : []))
    expect(binds('--ro-bind')).toEqual(expect.arrayContaining(['/usr', '/opt/trib/dist', '/opt/trib/node_modules', layout.codeDir, layout.proxySocket]))
    expect(binds('--ro-bind-try')).toEqual(['/data'])
    expect(binds('--bind-try')).toEqual(['/out'])
    // The home itself (its chDB socket, NATS store, lockfile) is not in the sandbox's view.
    expect(bw.some((a) => a === '/home/u/.tributary' || a === '/home/u')).toBe(false)
  })
})

describe('permissions to enforce', () => {
  it('are the ones accepted at install; a manifest that asks for more later is refused', async () => {
    const store = await mkdtemp(path.join(os.tmpdir(), 'trib-accepted-'))
    try {
      const dir = path.join(store, 'node_modules', 'geo')
      await mkdir(dir, { recursive: true })
      const manifest = (permissions: object): string => JSON.stringify({ name: 'geo', version: '1.0.0', kind: 'transform', entry: 'index.js', engine: '*', description: 'x', config: { type: 'object' }, permissions })
      await writeFile(path.join(store, 'tributary-lock.json'), JSON.stringify({ lockfileVersion: 1, plugins: { geo: { package: 'geo', name: 'geo', kind: 'transform', permissions: { env: ['A'] } } } }))
      await writeFile(path.join(dir, 'plugin.json'), manifest({ env: ['A'] }))
      expect(await acceptedPermissions(await readPlugin(dir, false))).toEqual({ env: ['A'] })
      await writeFile(path.join(dir, 'plugin.json'), manifest({ env: ['A', 'B'], spawn: true }))
      await expect(acceptedPermissions(await readPlugin(dir, false))).rejects.toThrow('plugin "geo" (transform) now asks for permissions that were not accepted at install: see environment variables: B; start child processes')
      expect(pluginCodeDir(dir)).toBe(path.join(await import('node:fs').then((f) => f.realpathSync(store)), 'node_modules'))
    } finally {
      await rm(store, { recursive: true, force: true })
    }
  })
})

describe("Node's refusals", () => {
  it('are reworded to name the manifest permission', () => {
    expect(permissionMessage({ code: 'ERR_ACCESS_DENIED', permission: 'FileSystemRead', resource: '/etc/passwd' })).toBe('permission denied: reading /etc/passwd needs "read": ["/etc/passwd"] in the plugin\'s permissions')
    expect(permissionMessage({ code: 'ERR_ACCESS_DENIED', permission: 'ChildProcess' })).toBe('permission denied: starting a child process needs "spawn": true in the plugin\'s permissions')
    expect(permissionMessage({ code: 'ERR_DLOPEN_DISABLED' })).toBe('permission denied: loading a native addon needs "addons": true in the plugin\'s permissions')
    expect(permissionMessage(new Error('other'))).toBeUndefined()
  })
})
