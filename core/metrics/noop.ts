import type { StageMeter } from './types.js'

/** The meter of a runner started without metrics (replay, tests): every call does nothing. */
export const noMeter: StageMeter = {
  batch() {},
  count() {},
  dead() {},
  error() {},
  acked() {},
  written() {},
  consumerRestarted() {},
}
