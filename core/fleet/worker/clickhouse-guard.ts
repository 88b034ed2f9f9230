import { TributaryError } from '../../errors.js'
import type { ClickHouse, ClickHouseConnectionOptions } from '../../plugin-api.js'
import { openClickHouse } from '../../clickhouse/open.js'

/**
 * ClickHouse as a worker opens it: a server (`url`, else the worker's CLICKHOUSE_URL), never
 * embedded chDB — deploy refuses pipelines that would need it; this also stops a community
 * plugin that asks for ClickHouse without a url.
 */
export function serverOnlyClickHouse(home: string, env: NodeJS.ProcessEnv): (opts: ClickHouseConnectionOptions) => Promise<ClickHouse> {
  return async (opts) => {
    const url = opts.url || env.CLICKHOUSE_URL || undefined
    if (!url) {
      throw new TributaryError('E_FLEET', 'a stage asked for embedded ClickHouse (chDB) on a fleet worker: several workers cannot share one chDB directory', {
        hint: 'ClickHouse in a fleet is a server: set the stage\'s `url`, or CLICKHOUSE_URL in the workers\' environment',
      })
    }
    return openClickHouse({ ...opts, url, home })
  }
}
