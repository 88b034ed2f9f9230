import type { StageGroup } from './topology.js'
import type { GroupStats } from './group-runner.js'

/** What the runtime drives for each consuming group, stateless (GroupRunner) or stateful. */
export interface StageRunner {
  readonly group: StageGroup
  /** The durable it reads (the group's, or one key partition's). */
  readonly consumer: string
  readonly stats: GroupStats
  /** Nothing fetched waits to be written and acknowledged. */
  readonly idle: boolean
  run(): Promise<void>
  /**
   * Drain: stop fetching, finish what was fetched, write, ack. State stays open for the next run.
   * `now`: the input is known to be empty (finished source, nothing pending): do not wait out the open fetch.
   */
  requestStop(opts?: { now?: boolean }): void
  /**
   * The input is finished for good (a finite source drained and this group consumed all of it):
   * emit what is still open (windows), save, then stop. Only stateful groups have it.
   */
  complete?(): void
}
