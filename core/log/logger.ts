import { pino, type Logger as PinoLogger } from 'pino'

export type Logger = PinoLogger

export interface LoggerOptions {
  level?: string
  /** Secret values resolved from references: replaced by *** wherever they would be logged. */
  secrets?: readonly string[]
  /** Pretty output (default: when stderr is a TTY). */
  pretty?: boolean
}

/** Logs go to stderr (stdout carries only command output, DESIGN §3): pretty in a TTY, JSON otherwise. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const secrets = (opts.secrets ?? []).filter((s) => s.length >= 3)
  const scrub = (s: string): string => secrets.reduce((acc, sec) => acc.split(sec).join('***'), s)
  const pretty = opts.pretty ?? process.stderr.isTTY === true
  const level = opts.level ?? process.env.TRIBUTARY_LOG_LEVEL ?? 'info'
  const hooks = secrets.length
    ? {
        logMethod(this: PinoLogger, args: unknown[], method: (...a: unknown[]) => void) {
          method.apply(this, args.map((a) => (typeof a === 'string' ? scrub(a) : a && typeof a === 'object' ? JSON.parse(scrub(JSON.stringify(a))) : a)))
        },
      }
    : undefined
  const options = { level, base: undefined, ...(hooks ? { hooks } : {}) }
  if (pretty) {
    return pino(options, pino.transport({ target: 'pino-pretty', options: { destination: 2, colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } }))
  }
  return pino(options, pino.destination({ fd: 2, sync: false }))
}
