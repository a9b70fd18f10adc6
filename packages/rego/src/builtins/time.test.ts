import { describe, expect, it } from 'vitest';
import { evalError, evalExpr } from './test-eval.ts';

describe('time builtins', () => {
  it('rejects timestamps beyond int64 nanoseconds, also as big integers', () => {
    expect(evalError('time.clock(1582977600 * 1000000000000)')).toContain('timestamp too big');
    expect(evalError('time.weekday(99999999999999999999)')).toContain('timestamp too big');
    expect(evalError('time.format(1582977600 * 10e12)')).toContain('timestamp too big');
  });
  it("diffs two instants in the first one's zone", () => {
    expect(evalExpr('time.diff([60000000000, "UTC"], [0, "Asia/Shanghai"])')).toEqual([
      0, 0, 0, 0, 1, 0,
    ]);
  });
  it('test.sleep blocks without moving time.now_ns', () => {
    const start = Date.now();
    expect(
      evalExpr('[t0 == t1 | t0 := time.now_ns(); test.sleep("20ms"); t1 := time.now_ns()]'),
    ).toEqual([true]);
    expect(evalExpr('{t | t := time.now_ns(); test.sleep("20ms")}')).toHaveLength(1);
    expect(Date.now() - start).toBeGreaterThanOrEqual(20);
  });
});
