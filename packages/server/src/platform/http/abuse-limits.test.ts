import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../clock.ts';
import { createTestApp, type TestApp } from '../testing/test-app.ts';
import { dialects } from '../testing/test-databases.ts';

const N = 5;
type Entry = {
  action: string;
  outcome: string;
  actor: { ip: string | null; name: string };
  details: Record<string, unknown>;
};

async function trail(t: TestApp, action?: string): Promise<Entry[]> {
  return (await t.app.services.audit.list({ limit: 100_000, action })) as unknown as Entry[];
}

function from(
  t: TestApp,
  ip: string,
  options: {
    url?: string;
    token?: string;
    headers?: Record<string, string>;
    method?: 'GET' | 'POST';
  } = {},
) {
  return t.app.http.inject({
    method: options.method ?? 'GET',
    url: options.url ?? '/api/v1/whoami',
    remoteAddress: ip,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
  });
}

for (const dialect of dialects) {
  describe(`abuse limits [${dialect}]`, () => {
    let t: TestApp | undefined;
    afterEach(async () => {
      await t?.close();
      t = undefined;
    });

    it('2,000 unauthenticated requests add N entries in full and one summary whose count adds up', async () => {
      const clock = new ManualClock('2026-12-01T10:00:00Z');
      t = await createTestApp(dialect, {
        clock,
        config: { deniedAttemptsPerWindow: N, rateLimitUnauthenticated: 'off' },
      });
      const before = (await trail(t)).length;
      for (let i = 0; i < 2000; i++) {
        const res = await from(t, '203.0.113.7', { token: i % 2 ? 'cus_bogus' : undefined });
        expect(res.statusCode).toBe(401);
      }
      const during = await trail(t);
      expect(during.length - before).toBe(N);
      // The window ends quietly; the sweep (what the timer runs) writes the summary.
      clock.advance(61_000);
      await t.app.uow.attempts!.flushExpired();
      const after = await trail(t);
      expect(after.length - before).toBe(N + 1);
      const denied = after.filter((e) => e.action === 'identity.authentication.denied');
      const [summary] = after.filter((e) => e.action === 'audit.attempts.suppressed');
      expect(denied).toHaveLength(N);
      expect(summary).toMatchObject({
        outcome: 'denied',
        actor: { name: 'anonymous', ip: '203.0.113.7' },
        details: {
          action: 'identity.authentication.denied',
          source: '203.0.113.7',
          count: 2000 - N,
          recordedInFull: N,
          windowStart: '2026-12-01T10:00:00.000Z',
          windowEnd: '2026-12-01T10:01:00.000Z',
        },
      });
      const codes = summary!.details.codes as Record<string, number>;
      expect(Object.keys(codes).sort()).toEqual(['AUTH_INVALID_TOKEN', 'AUTH_REQUIRED']);
      expect(Object.values(codes).reduce((a, b) => a + b, 0)).toBe(2000 - N);
      // A second window starts in full again.
      expect((await from(t, '203.0.113.7')).statusCode).toBe(401);
      expect((await trail(t, 'identity.authentication.denied')).length).toBe(N + 1);
    });

    it('with the default limits on, 2,000 unauthenticated requests stay bounded and add up', async () => {
      t = await createTestApp(dialect, { config: { deniedAttemptsPerWindow: N } });
      const before = (await trail(t)).length;
      const statuses = new Map<number, number>();
      for (let i = 0; i < 2000; i++) {
        const { statusCode } = await from(t, '203.0.113.8', { token: 'cus_bogus' });
        statuses.set(statusCode, (statuses.get(statusCode) ?? 0) + 1);
      }
      // 600 per minute (plus what refills while the test runs) may fail authentication; the
      // rest are refused before it.
      expect(statuses.get(401)).toBeGreaterThanOrEqual(600);
      expect(statuses.get(401)).toBeLessThan(700);
      expect((statuses.get(401) ?? 0) + (statuses.get(429) ?? 0)).toBe(2000);
      await t.app.uow.attempts!.flushAll();
      const added = (await trail(t)).slice(before);
      // N in full per kind of denial (authentication, rate limit) and one summary each.
      expect(added.length).toBe(2 * N + 2);
      const full = added.filter((e) => e.action !== 'audit.attempts.suppressed').length;
      const summarized = added
        .filter((e) => e.action === 'audit.attempts.suppressed')
        .reduce((n, e) => n + Number(e.details.count), 0);
      expect(full + summarized).toBe(2000);
    });

    it('the next attempt and shutdown also write summaries; per source, per actor, per action', async () => {
      const clock = new ManualClock('2026-12-01T10:00:00Z');
      t = await createTestApp(dialect, {
        clock,
        config: { deniedAttemptsPerWindow: N, rateLimitUnauthenticated: 'off' },
      });
      const nobody = await t.user('nobody');
      for (let i = 0; i < 3 * N; i++) {
        await from(t, '198.51.100.1');
        await from(t, '198.51.100.2');
        // A guard denial by an authenticated user is its own source of evidence.
        expect(
          (await from(t, '198.51.100.1', { token: nobody, url: '/api/v1/users' })).statusCode,
        ).toBe(403);
      }
      expect((await trail(t, 'identity.authentication.denied')).length).toBe(2 * N);
      expect((await trail(t, 'identity.user.read')).length).toBe(N);
      clock.advance(60_000);
      // The next attempt of a source closes its window.
      await from(t, '198.51.100.1');
      await vi.waitFor(async () =>
        expect((await trail(t!, 'audit.attempts.suppressed')).length).toBe(1),
      );
      // Shutdown writes the rest, ended or not.
      await t.app.uow.close();
      const summaries = await trail(t, 'audit.attempts.suppressed');
      expect(
        summaries
          .map(
            (s) =>
              `${s.actor.name}@${s.actor.ip} ${String(s.details.action)} ${String(s.details.count)}`,
          )
          .sort(),
      ).toEqual([
        `anonymous@198.51.100.1 identity.authentication.denied ${2 * N}`,
        `anonymous@198.51.100.2 identity.authentication.denied ${2 * N}`,
        `nobody@198.51.100.1 identity.user.read ${2 * N}`,
      ]);
      const authz = summaries.find((s) => s.details.action === 'identity.user.read')!;
      expect(authz.details.codes).toEqual({ AUTHZ_PERMISSION_DENIED: 2 * N });
    });

    it('an unauthenticated flood is refused per address before authentication; other addresses are served', async () => {
      t = await createTestApp(dialect, {
        config: { deniedAttemptsPerWindow: N, rateLimitUnauthenticated: '20/1m' },
      });
      const authenticate = vi.spyOn(t.app.services.access, 'authenticate');
      const statuses: number[] = [];
      for (let i = 0; i < 200; i++)
        statuses.push((await from(t, '192.0.2.50', { token: `cus_guess${i}` })).statusCode);
      expect(statuses.filter((s) => s === 401)).toHaveLength(20);
      expect(statuses.filter((s) => s === 429)).toHaveLength(180);
      expect(authenticate).toHaveBeenCalledTimes(20);
      const refused = await from(t, '192.0.2.50');
      expect(refused.statusCode).toBe(429);
      expect(refused.json().error).toMatchObject({
        code: 'RATE_LIMITED',
        details: { limit: 'unauthenticated' },
      });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      // While its address is refused, even a valid token from it waits (as fail2ban would).
      expect((await from(t, '192.0.2.50', { token: t.adminToken })).statusCode).toBe(429);
      expect((await from(t, '192.0.2.51', { token: t.adminToken })).statusCode).toBe(200);
      // Spoofing X-Forwarded-For changes nothing while no proxy is trusted.
      const spoofed = await from(t, '192.0.2.50', { headers: { 'x-forwarded-for': '192.0.2.99' } });
      expect(spoofed.statusCode).toBe(429);
      // Liveness and readiness probes are never limited (a load balancer must see the replica).
      expect((await from(t, '192.0.2.50', { url: '/healthz' })).statusCode).toBe(200);
      // Every refusal is evidence too, aggregated like any other denied attempt.
      await t.app.uow.attempts!.flushAll();
      const limited = await trail(t, 'platform.rate-limit.exceeded');
      const summary = (await trail(t, 'audit.attempts.suppressed')).find(
        (s) => s.details.action === 'platform.rate-limit.exceeded',
      );
      expect(limited).toHaveLength(N);
      expect(limited.length + Number(summary?.details.count)).toBe(180 + 3);
      expect(limited[0]!.details).toEqual({ code: 'RATE_LIMITED', limit: 'unauthenticated' });
    });

    it('a flood from one address gets 429 with Retry-After while another address is served', async () => {
      t = await createTestApp(dialect, { config: { rateLimitPerAddress: '30/1m' } });
      const codes: number[] = [];
      for (let i = 0; i < 40; i++)
        codes.push((await from(t, '10.1.1.1', { token: t.adminToken })).statusCode);
      expect(codes.slice(0, 30).every((c) => c === 200)).toBe(true);
      expect(codes.slice(30).every((c) => c === 429)).toBe(true);
      const res = await from(t, '10.1.1.1', { token: t.adminToken });
      expect(res.json().error).toMatchObject({
        code: 'RATE_LIMITED',
        details: { limit: 'address' },
      });
      // 30 per minute: the next token is two seconds away.
      expect(res.headers['retry-after']).toBe('2');
      expect((await from(t, '10.1.1.2', { token: t.adminToken })).statusCode).toBe(200);
      // Rotating through one IPv6 /64 is one address.
      const v6: number[] = [];
      for (let i = 0; i < 35; i++)
        v6.push(
          (await from(t, `2001:db8:1:2::${(i + 1).toString(16)}`, { token: t.adminToken }))
            .statusCode,
        );
      expect(v6.filter((c) => c === 429)).toHaveLength(5);
      expect((await from(t, '2001:db8:1:3::1', { token: t.adminToken })).statusCode).toBe(200);
    });

    it('behind a trusted proxy each client has its own budget; an untrusted X-Forwarded-For is ignored', async () => {
      t = await createTestApp(dialect, {
        config: { rateLimitPerAddress: '10/1m', trustedProxies: '10.9.0.0/16' },
      });
      const via = (client: string, proxy = '10.9.0.5') =>
        from(t!, proxy, { token: t!.adminToken, headers: { 'x-forwarded-for': client } });
      for (let i = 0; i < 10; i++) expect((await via('203.0.113.1')).statusCode).toBe(200);
      expect((await via('203.0.113.1')).statusCode).toBe(429);
      expect((await via('203.0.113.2')).statusCode).toBe(200);
      for (let i = 0; i < 10; i++) await via('203.0.113.3', '172.16.0.1');
      // Not a trusted proxy: its header is ignored and it spends its own budget.
      expect((await via('203.0.113.4', '172.16.0.1')).statusCode).toBe(429);
      const [entry] = await trail(t, 'platform.rate-limit.exceeded');
      expect(entry!.actor.ip).toBe('203.0.113.1');
    });

    it("a principal's limit follows the principal across addresses and spares others", async () => {
      t = await createTestApp(dialect, {
        config: { rateLimitPerPrincipal: '20/1m', deniedAttemptsPerWindow: N },
      });
      const alice = await t.user('alice');
      for (let i = 0; i < 20; i++)
        expect((await from(t, `10.2.0.${i + 1}`, { token: alice })).statusCode).toBe(200);
      const res = await from(t, '10.2.0.100', { token: alice });
      expect(res.statusCode).toBe(429);
      expect(res.json().error).toMatchObject({
        code: 'RATE_LIMITED',
        details: { limit: 'principal' },
      });
      expect(res.headers['retry-after']).toBe('3');
      expect((await from(t, '10.2.0.100', { token: t.adminToken })).statusCode).toBe(200);
      const [entry] = await trail(t, 'platform.rate-limit.exceeded');
      expect(entry).toMatchObject({
        actor: { name: 'alice', ip: '10.2.0.100' },
        details: { code: 'RATE_LIMITED', limit: 'principal' },
      });
    });
  });
}
