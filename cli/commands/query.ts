import { Args } from '@oclif/core'
import { BaseCommand } from '../base-command.js'
import { Session } from '../../core/app/session.js'
import { formatTable } from '../../core/app/format-table.js'
import { runQuery } from '../../core/app/run-query.js'
import type { JsonObject } from '../../core/plugin-api.js'

export default class Query extends BaseCommand<typeof Query> {
  static override summary = 'Run SQL against ClickHouse'
  static override description = 'Queries the embedded ClickHouse of the home (through the running pipeline when one owns it), or the server named by CLICKHOUSE_URL. Prints a table, or with --json a JSON array of row objects.'
  static override examples = [
    `<%= config.bin %> query 'SELECT count() FROM events'`,
    `<%= config.bin %> query 'SELECT name, sum(value) AS total FROM events GROUP BY name ORDER BY total DESC' --json`,
    `CLICKHOUSE_URL=http://127.0.0.1:8123 <%= config.bin %> query 'SELECT version()'`,
  ]
  static override enableJsonFlag = true
  static override args = { sql: Args.string({ description: 'SQL statement: a SELECT (or SHOW, DESCRIBE, WITH…) prints rows; CREATE, INSERT, ALTER… print OK', required: true }) }

  async run(): Promise<JsonObject[]> {
    const { args } = await this.parse(Query)
    const session = new Session({ home: this.home })
    try {
      const ch = await session.clickhouse()
      try {
        const res = await runQuery(ch, args.sql)
        if (!this.jsonEnabled()) this.log(res.returnsRows ? formatTable(res.rows) : 'OK')
        return res.rows
      } finally {
        await ch.close()
      }
    } finally {
      await session.close()
    }
  }
}
