import type { StageGroup } from './topology.js'
import type { GroupStats } from './group-runner.js'

/** What the runtime drives for each consuming group, stateless (GroupRunner) or stateful. */
export interface StageRunner {
  readonly group: StageGroup
  readonly stats: GroupStats
  /** Nothing fetched waits to be written and acknowledged. */
  readonly idle: boolean
  run(): Promise<void>
  /** Drain: stop fetching, finish what was fetched, write, ack. State stays open for the next run. */
  requestStop(): void
  /**
   * The input is finished for good (a finite source drained and this group consumed all of it):
   * emit what is still open (windows), save, then stop. Only stateful groups have it.
   */
  complete?(): void
}
