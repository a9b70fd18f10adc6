import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../clock.ts';
import type { Actor, AuditRecord } from '../context.ts';
import { DeniedAttemptAggregator, type AttemptContext } from './denied-attempts.ts';

// The aggregator alone, with a recording writer (the database side is in
// http/abuse-limits.test.ts on both dialects).

const anonymousFrom = (ip: string): Actor => ({
  type: 'anonymous',
  id: null,
  name: 'anonymous',
  authMethod: 'none',
  ip,
});
const denied = (code = 'AUTH_REQUIRED'): AuditRecord => ({
  action: 'identity.authentication.denied',
  resource: { type: 'token', id: 'none' },
  outcome: 'denied',
  details: { code },
});

function setup(options: { maxKeys?: number; anonymousInFullPerWindow?: number } = {}) {
  const clock = new ManualClock('2026-12-01T10:00:00Z');
  const written: { ctx: AttemptContext; record: AuditRecord }[] = [];
  let failing = false;
  const aggregator = new DeniedAttemptAggregator({
    perWindow: 3,
    windowMs: 60_000,
    clock,
    write: async (ctx, record) => {
      if (failing) throw new Error('database down');
      written.push({ ctx, record });
    },
    onError: () => {},
    ...options,
  });
  const attempt = (ip: string, record = denied()) => {
    const ctx = { actor: anonymousFrom(ip), requestId: `req-${written.length}` };
    if (aggregator.admit(ctx, record)) written.push({ ctx, record });
  };
  const summaries = () => written.filter((w) => w.record.action === 'audit.attempts.suppressed');
  return { clock, aggregator, written, attempt, summaries, fail: (f: boolean) => (failing = f) };
}

describe('denied-attempt aggregation', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a window that ends quietly is summarized by the sweep timer', async () => {
    vi.useFakeTimers();
    const s = setup();
    for (let i = 0; i < 10; i++)
      s.attempt('192.0.2.1', denied(i % 2 ? 'AUTH_INVALID_TOKEN' : 'AUTH_REQUIRED'));
    expect(s.written).toHaveLength(3);
    s.clock.advance(60_000);
    await vi.advanceTimersByTimeAsync(15_000);
    expect(s.summaries()).toHaveLength(1);
    expect(s.summaries()[0]!.record.details).toMatchObject({
      count: 7,
      recordedInFull: 3,
      codes: { AUTH_INVALID_TOKEN: 4, AUTH_REQUIRED: 3 },
    });
    await s.aggregator.stop();
  });

  it('a summary that cannot be written is kept and written at the next flush', async () => {
    const s = setup();
    for (let i = 0; i < 5; i++) s.attempt('192.0.2.1');
    s.fail(true);
    await s.aggregator.flushAll();
    expect(s.summaries()).toHaveLength(0);
    s.fail(false);
    await s.aggregator.flushAll();
    expect(s.summaries().map((w) => w.record.details?.count)).toEqual([2]);
    await s.aggregator.stop();
  });

  it('many anonymous addresses share one allowance in full; beyond maxKeys sources share one summary', async () => {
    const s = setup({ maxKeys: 50, anonymousInFullPerWindow: 20 });
    for (let i = 0; i < 1000; i++) s.attempt(`10.0.${Math.floor(i / 250)}.${i % 250}`);
    const inFull = s.written.filter((w) => w.record.action !== 'audit.attempts.suppressed');
    expect(inFull).toHaveLength(20);
    await s.aggregator.stop();
    const summaries = s.summaries();
    // At most one per tracked source plus the overflow, and every attempt is accounted for.
    expect(summaries.length).toBeLessThanOrEqual(51);
    const counted = summaries.reduce((n, w) => n + Number(w.record.details?.count), 0);
    expect(inFull.length + counted).toBe(1000);
    const overflow = summaries.find((w) => w.record.details?.source === 'many');
    expect(overflow?.ctx.actor).toMatchObject({ type: 'system', name: 'custody' });
  });

  it('IPv6 addresses of one /64 are one source; IPv4-mapped addresses are their IPv4 address', async () => {
    const s = setup();
    for (let i = 1; i <= 5; i++) s.attempt(`2001:db8:0:1::${i.toString(16)}`);
    for (let i = 0; i < 5; i++) s.attempt(i % 2 ? '::ffff:198.51.100.7' : '198.51.100.7');
    expect(s.written).toHaveLength(6);
    await s.aggregator.stop();
    expect(
      s
        .summaries()
        .map((w) => w.record.details?.source)
        .sort(),
    ).toEqual(['198.51.100.7', '2001:db8:0:1::/64']);
  });
});
