import type { InstallPlan, Permissions } from './types.js'

const LABELS: Record<keyof Permissions, string> = {
  network: 'connect to',
  read: 'read files',
  write: 'write files',
  env: 'see environment variables',
  spawn: 'start child processes',
  workers: 'start worker threads',
  addons: 'load native addons',
}

const FLAGS = ['spawn', 'workers', 'addons'] as const

/** The permissions as lines a user reads before accepting them. */
export function describePermissions(p: Permissions | undefined): string[] {
  const lines: string[] = []
  for (const key of ['network', 'read', 'write', 'env'] as const) {
    const v = p?.[key]
    if (v && v.length > 0) lines.push(`${LABELS[key]}: ${v.join(', ')}`)
  }
  for (const key of FLAGS) if (p?.[key]) lines.push(LABELS[key])
  return lines.length > 0 ? lines : ['no permissions: no network, files, environment variables or child processes']
}

/** Permissions in `next` that `prev` did not have (an update must ask for these again). */
export function addedPermissions(prev: Permissions | undefined, next: Permissions | undefined): Permissions {
  const out: Permissions = {}
  for (const key of ['network', 'read', 'write', 'env'] as const) {
    const added = (next?.[key] ?? []).filter((v) => !(prev?.[key] ?? []).includes(v))
    if (added.length > 0) out[key] = added
  }
  for (const key of FLAGS) if (next?.[key] && !prev?.[key]) out[key] = true
  return out
}

export function isEmpty(p: Permissions): boolean {
  return Object.keys(p).length === 0
}

/** What the user reads before accepting a plugin: what it is, where from, and what it may do. */
export function describePlan(plan: InstallPlan): string {
  const head = `${plan.package} ${plan.version}: ${plan.kind} plugin "${plan.name}" from ${plan.source.spec}${plan.previous ? ` (replaces ${plan.previous.version})` : ''}`
  const perms = plan.added && plan.previous ? describePermissions(plan.added).map((l) => `${l} (new in this version)`) : describePermissions(plan.permissions)
  return [head, `  ${plan.description}`, '  It asks to:', ...perms.map((l) => `    - ${l}`)].join('\n')
}
