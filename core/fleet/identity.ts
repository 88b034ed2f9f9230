import { hostname, userInfo } from 'node:os'

/** `user@host`, recorded with every change to a fleet's deployments. */
export function whoAmI(): string {
  let user = 'unknown'
  try {
    user = userInfo().username
  } catch {
    // no passwd entry (some containers)
  }
  return `${user}@${hostname()}`
}
