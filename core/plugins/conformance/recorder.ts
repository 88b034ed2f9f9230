import type { CheckResult, CheckStatus, DlqMarker } from './types.js'

/** Collects check results and DLQ markers as the suite goes. */
export class Recorder {
  readonly checks: CheckResult[] = []
  readonly dlq: DlqMarker[] = []

  add(id: string, status: CheckStatus, detail: string): void {
    this.checks.push({ id, status, detail })
  }
  pass(id: string, detail: string): void {
    this.add(id, 'pass', detail)
  }
  fail(id: string, detail: string): void {
    this.add(id, 'fail', detail)
  }
  warn(id: string, detail: string): void {
    this.add(id, 'warn', detail)
  }
  skip(id: string, detail: string): void {
    this.add(id, 'skip', detail)
  }
  get failed(): boolean {
    return this.checks.some((c) => c.status === 'fail')
  }
}
