/**
 * Wakes a reader waiting for input (a message arrived, or the source stops). A wake with nobody
 * waiting is remembered, so input that arrives between a check and the wait is not missed.
 */
export class Waiter {
  private resolve: (() => void) | undefined
  private pending = false

  wait(): Promise<void> {
    if (this.pending) {
      this.pending = false
      return Promise.resolve()
    }
    return new Promise((r) => (this.resolve = r))
  }

  wake(): void {
    const r = this.resolve
    this.resolve = undefined
    if (r) r()
    else this.pending = true
  }
}
