/**
 * Rate limit: `rate` tokens a second, at most `burst` saved up. A caller that finds no token
 * reserves the next one (the balance goes negative) and waits for it, so concurrent callers are
 * served in turn and the long-run rate never exceeds `rate`.
 */
export class TokenBucket {
  private tokens: number
  private at = Date.now()

  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {
    this.tokens = burst
  }

  async take(): Promise<void> {
    const now = Date.now()
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.rate)
    this.at = now
    this.tokens -= 1
    if (this.tokens >= 0) return
    const waitMs = Math.ceil((-this.tokens / this.rate) * 1000)
    await new Promise((resolve) => setTimeout(resolve, waitMs))
  }
}
