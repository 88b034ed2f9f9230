import { createInterface } from 'node:readline/promises'
import { TributaryError } from '../core/errors.js'
import { describePlan } from '../core/plugins/store/permissions.js'
import type { Confirm, StoreLog } from '../core/plugins/store/types.js'

/**
 * How `plugins install|update` asks the user to accept a plugin's permissions: the plan is shown
 * on stderr; with --yes it is accepted, in a terminal the user answers, elsewhere (CI, a pipe)
 * the command refuses rather than install something nobody accepted.
 */
export function consent(yes: boolean): Confirm {
  return async (plan) => {
    process.stderr.write(`${describePlan(plan)}\n`)
    if (yes) return true
    if (!process.stdin.isTTY) {
      throw new TributaryError('E_USAGE', `${plan.package} needs your consent to its permissions, and there is no terminal to ask in`, { hint: 'read the permissions above and run again with --yes to accept them' })
    }
    const rl = createInterface({ input: process.stdin, output: process.stderr })
    try {
      return /^y(es)?$/i.test((await rl.question(`Install ${plan.package} ${plan.version}? [y/N] `)).trim())
    } finally {
      rl.close()
    }
  }
}

/** Progress on stderr; npm's own output too with --verbose. */
export function storeLog(verbose: boolean): StoreLog {
  return {
    progress: (msg) => process.stderr.write(`${msg}…\n`),
    ...(verbose ? { npmOutput: (chunk: string) => process.stderr.write(chunk) } : {}),
  }
}
