import type { Rate } from '../rate.ts';

interface Bucket {
  tokens: number;
  at: number;
}

export type Take = { readonly ok: true } | { readonly ok: false; readonly retryAfterMs: number };

// One token bucket per key, in memory: capacity `limit`, refilled at `limit` per `windowMs`.
// A key whose bucket is full again is the same as an absent key, so those are dropped first
// when the map grows; under a flood of distinct keys the oldest are dropped (which only ever
// forgives, never blocks someone wrongly).
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;

  constructor(
    private readonly rate: Rate,
    private readonly now: () => number = () => performance.now(),
    private readonly maxKeys = 100_000,
  ) {
    this.perMs = rate.limit / rate.windowMs;
  }

  // Takes one token if there is one.
  take(key: string): Take {
    const bucket = this.refill(key);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil((1 - bucket.tokens) / this.perMs) };
  }

  // Whether a token is there, without taking it.
  check(key: string): Take {
    const bucket = this.buckets.get(key);
    if (!bucket) return { ok: true };
    const tokens = Math.min(this.rate.limit, bucket.tokens + (this.now() - bucket.at) * this.perMs);
    return tokens >= 1
      ? { ok: true }
      : { ok: false, retryAfterMs: Math.ceil((1 - tokens) / this.perMs) };
  }

  get size(): number {
    return this.buckets.size;
  }

  private refill(key: string): Bucket {
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.maxKeys) this.evict(now);
      bucket = { tokens: this.rate.limit, at: now };
      this.buckets.set(key, bucket);
      return bucket;
    }
    bucket.tokens = Math.min(this.rate.limit, bucket.tokens + (now - bucket.at) * this.perMs);
    bucket.at = now;
    return bucket;
  }

  private evict(now: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + (now - b.at) * this.perMs >= this.rate.limit) this.buckets.delete(key);
    }
    // Down to 90%, so a flood of new keys pays for a sweep once per tenth of the map.
    for (const key of this.buckets.keys()) {
      if (this.buckets.size < this.maxKeys * 0.9) break;
      this.buckets.delete(key);
    }
  }
}
