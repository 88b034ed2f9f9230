import { Command, Flags, type Interfaces } from '@oclif/core'
import { TributaryError } from '../core/errors.js'
import { resolveHome } from '../core/home/paths.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>

/**
 * Shared flags and error handling: a failure prints one sentence and a hint on stderr and exits
 * non-zero; the stack only with --verbose.
 */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override baseFlags = {
    home: Flags.string({ description: 'Tributary home folder (state, local NATS store, embedded ClickHouse) [env: TRIBUTARY_HOME, default ./.tributary]', helpGroup: 'GLOBAL' }),
    nats: Flags.string({ description: 'NATS server URL(s), comma-separated [env: NATS_URL; default: the `up` server, else a private one]', helpGroup: 'GLOBAL' }),
    verbose: Flags.boolean({ description: 'Show debug logs and stack traces', default: false, helpGroup: 'GLOBAL' }),
  }

  protected flags!: BaseFlags<T>

  public override async init(): Promise<void> {
    await super.init()
    const { flags } = await this.parse({ flags: this.ctor.flags, baseFlags: (super.ctor as typeof BaseCommand).baseFlags, args: this.ctor.args, strict: this.ctor.strict, enableJsonFlag: this.ctor.enableJsonFlag })
    this.flags = flags as BaseFlags<T>
    if (this.flags.verbose) process.env.TRIBUTARY_LOG_LEVEL ??= 'debug'
  }

  protected get home(): string {
    return resolveHome(this.flags.home)
  }

  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    if (err instanceof TributaryError) {
      process.stderr.write(`Error: ${err.message}\n`)
      if (err.hint) process.stderr.write(`Hint: ${err.hint}\n`)
      if (this.flags?.verbose && err.stack) process.stderr.write(`${err.stack}\n`)
      this.exit(err.code === 'E_USAGE' ? 2 : 1)
    }
    if (this.flags?.verbose || err.oclif) return super.catch(err)
    process.stderr.write(`Error: ${err.message}\nHint: run again with --verbose for details\n`)
    this.exit(1)
  }
}
