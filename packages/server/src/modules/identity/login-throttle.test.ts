import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../app.ts';
import { ManualClock } from '../../platform/clock.ts';
import { createDatabase } from '../../platform/db/database.ts';
import { createLogger } from '../../platform/log/logger.ts';
import { dialects } from '../../platform/testing/test-databases.ts';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';

// Password guessing: 30 wrong passwords in a row used to be followed by a working login.
const password = 'correct horse battery staple';
const minute = 60_000;

for (const dialect of dialects) {
  describe(`login throttling and lockout [${dialect}]`, () => {
    let t: TestApp;
    const clock = new ManualClock('2026-06-01T09:00:00Z');

    const login = async (name: string, pass: string, address: string, app = t.app) => {
      const res = await app.http.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        remoteAddress: address,
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ name, password: pass }),
      });
      return {
        status: res.statusCode,
        code: res.statusCode === 200 ? 'OK' : (res.json().error.code as string),
        body: res.json(),
      };
    };
    const guesses = async (name: string, address: string, n: number) => {
      const codes: string[] = [];
      for (let i = 0; i < n; i++) codes.push((await login(name, `wrong guess ${i}`, address)).code);
      return codes;
    };

    beforeAll(async () => {
      t = await createTestApp(dialect, { clock });
      for (const name of ['victim', 'other', 'racer', 'slow'])
        expect(
          (await t.request({ method: 'POST', url: '/api/v1/users', json: { name, password } }))
            .statusCode,
        ).toBe(201);
    });
    afterAll(async () => t?.close());

    it('30 wrong passwords, then the right one: refused with the lockout code until it expires', async () => {
      const codes = await guesses('victim', '10.0.0.1', 30);
      expect(codes.slice(0, 5)).toEqual(Array(5).fill('AUTH_INVALID_CREDENTIALS'));
      expect(codes.slice(5, 9)).toEqual(Array(4).fill('AUTH_LOGIN_THROTTLED'));
      expect(codes.slice(9)).toEqual(Array(21).fill('AUTH_LOGIN_LOCKED'));
      const right = await login('victim', password, '10.0.0.1');
      expect(right.status).toBe(401);
      expect(right.code).toBe('AUTH_LOGIN_LOCKED');
      expect(right.body.error.details.retryAfter).toBe('2026-06-01T09:15:00.000Z');
      // The name is locked from any address; the right password does not help.
      expect((await login('VICTIM', password, '10.9.9.9')).code).toBe('AUTH_LOGIN_LOCKED');
      // Someone else, elsewhere, is not affected.
      expect((await login('other', password, '10.0.0.2')).code).toBe('OK');

      const locks = await t.app.services.audit.list({
        action: 'identity.session.locked',
        limit: 10,
      });
      expect(locks).toMatchObject([
        {
          resource: { type: 'user', id: 'victim' },
          details: { code: 'AUTH_LOGIN_LOCKED', until: '2026-06-01T09:15:00.000Z' },
        },
        {
          resource: { type: 'address', id: '10.0.0.1' },
          details: { code: 'AUTH_LOGIN_LOCKED' },
        },
      ]);
      const denied = await t.app.services.audit.list({
        action: 'identity.session.denied',
        limit: 100,
      });
      expect(denied.filter((e) => e.resource.id === 'victim')).toHaveLength(32);

      clock.advance(15 * minute);
      expect((await login('victim', password, '10.0.0.1')).code).toBe('OK');
    });

    it('a name without an account gets exactly the same answers', async () => {
      clock.advance(60 * minute);
      const real = await guesses('other', '10.0.1.1', 12);
      const ghost = await guesses('nobody-here', '10.0.1.2', 12);
      expect(ghost).toEqual(real);
      expect((await login('nobody-here', password, '10.0.1.2')).code).toBe(
        (await login('other', password, '10.0.1.1')).code,
      );
    });

    it('the delay doubles after each further failure and a success forgets the failures', async () => {
      clock.advance(60 * minute);
      expect(await guesses('slow', '10.0.2.1', 5)).toEqual(
        Array(5).fill('AUTH_INVALID_CREDENTIALS'),
      );
      const waiting = await login('slow', password, '10.0.2.1');
      expect(waiting.code).toBe('AUTH_LOGIN_THROTTLED');
      // That refusal counted: the wait is now 2 s from it.
      expect(waiting.body.error.details.retryAfter).toBe(
        new Date(clock.now().getTime() + 2_000).toISOString(),
      );
      clock.advance(2_000);
      expect((await login('slow', 'wrong again', '10.0.2.1')).code).toBe(
        'AUTH_INVALID_CREDENTIALS',
      );
      // Seven failures want 4 s; trying again at once makes it eight, and 8 s.
      const longer = await login('slow', password, '10.0.2.1');
      expect(longer.code).toBe('AUTH_LOGIN_THROTTLED');
      expect(longer.body.error.details.retryAfter).toBe(
        new Date(clock.now().getTime() + 8_000).toISOString(),
      );
      clock.advance(8_000);
      expect((await login('slow', password, '10.0.2.1')).code).toBe('OK');
      // Forgotten: the next mistake is an ordinary one.
      expect((await login('slow', 'oops', '10.0.2.1')).code).toBe('AUTH_INVALID_CREDENTIALS');
      expect((await login('slow', password, '10.0.2.1')).code).toBe('OK');
    });

    it('one address guessing many names is locked as an address', async () => {
      clock.advance(60 * minute);
      const codes: string[] = [];
      for (let i = 0; i < 40; i++)
        codes.push((await login(`spray-${i % 20}`, `guess ${i}`, '10.0.3.1')).code);
      expect(codes).toContain('AUTH_LOGIN_LOCKED');
      // A real user behind that address is refused too, while others log in.
      expect((await login('other', password, '10.0.3.1')).code).toBe('AUTH_LOGIN_LOCKED');
      expect((await login('other', password, '10.0.3.2')).code).toBe('OK');
    });

    it('parallel guesses cannot all slip past one check', async () => {
      clock.advance(60 * minute);
      const results = await Promise.all(
        Array.from({ length: 25 }, (_, i) => login('racer', `parallel ${i}`, `10.0.4.${i}`)),
      );
      const verified = results.filter((r) => r.code === 'AUTH_INVALID_CREDENTIALS');
      expect(verified.length).toBe(5);
      expect(results.every((r) => r.status === 401)).toBe(true);
    });

    it('another replica on the same database sees the same lock', async () => {
      clock.advance(60 * minute);
      const database = createDatabase(t.app.database.url);
      const replica = await createApp({
        config: t.app.config,
        database,
        clock,
        logger: createLogger('silent'),
      });
      try {
        await guesses('victim', '10.0.5.1', 10);
        expect((await login('victim', password, '10.0.5.2', replica)).code).toBe(
          'AUTH_LOGIN_LOCKED',
        );
      } finally {
        await replica.close();
        await database.destroy();
      }
    });
  });
}
