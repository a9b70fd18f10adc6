import { describe, expect, it } from 'vitest';
import { lookupSync } from './net-lookup.ts';
import { evalError, evalExpr } from './test-eval.ts';

describe('net.lookup_ip_addr', () => {
  it('answers IP literals directly', () => {
    expect(evalExpr('net.lookup_ip_addr("10.0.0.1")')).toEqual(['10.0.0.1']);
    expect(evalExpr('net.lookup_ip_addr("::")')).toEqual(['::']);
  });
  it('resolves localhost synchronously', () => {
    const addrs = lookupSync('localhost');
    expect(addrs.length).toBeGreaterThan(0);
    for (const a of addrs) expect(['127.0.0.1', '::1']).toContain(a);
  });
  it('raises a builtin error for a name that does not resolve', () => {
    expect(evalError('net.lookup_ip_addr("no-such-host.invalid")')).toContain(
      'lookup no-such-host.invalid',
    );
  });
});
