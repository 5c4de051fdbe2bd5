// Optional API keys (PTS_API_KEYS) and a request-rate limit per key (PTS_RATE_LIMIT).
import { createHash, timingSafeEqual } from 'node:crypto';

export type AuthResult =
  | { ok: true; key: string | null }
  | { ok: false; reason: 'missing' | 'invalid'; message: string };

/**
 * Checks bearer keys. With no keys configured the API is open and every request passes
 * (key null). Keys are compared by their sha256 in constant time.
 */
export class ApiKeys {
  private readonly digests: Buffer[];

  constructor(keys: readonly string[]) {
    this.digests = keys.map(digest);
  }

  get required(): boolean {
    return this.digests.length > 0;
  }

  /** `authorization` is the header value (HTTP) or `connectionParams.authorization` (WebSocket). */
  check(authorization: unknown): AuthResult {
    if (!this.required) return { ok: true, key: null };
    if (typeof authorization !== 'string' || authorization.trim() === '') {
      return { ok: false, reason: 'missing', message: 'API key required: send the header `Authorization: Bearer <key>`' };
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization.trim());
    if (!match) {
      return { ok: false, reason: 'invalid', message: 'Malformed Authorization header: expected `Bearer <key>`' };
    }
    const key = match[1]!;
    const given = digest(key);
    // Every configured key is compared, so timing says nothing about which one matched.
    let found = false;
    for (const d of this.digests) found = timingSafeEqual(d, given) || found;
    return found ? { ok: true, key } : { ok: false, reason: 'invalid', message: 'Invalid API key' };
  }
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/**
 * A token bucket per key: `ratePerSecond` tokens a second, holding at most one second's
 * worth (bursts up to the rate). A rate of 0 disables limiting.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    readonly ratePerSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  take(key: string): RateDecision {
    const rate = this.ratePerSecond;
    if (rate <= 0) return { allowed: true };
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (!bucket) this.buckets.set(key, (bucket = { tokens: rate, at: now }));
    bucket.tokens = Math.min(rate, bucket.tokens + ((now - bucket.at) / 1000) * rate);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / rate)) };
  }

  message(retryAfterSeconds: number): string {
    return (
      `Rate limit exceeded: at most ${this.ratePerSecond} requests per second per API key (PTS_RATE_LIMIT); ` +
      `retry after ${retryAfterSeconds} s`
    );
  }
}
