import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../app.ts';
import { bootstrapAdmin } from '../../bootstrap.ts';
import { configSchema } from '../config/config.ts';
import { createTestDatabase } from '../testing/test-databases.ts';
import { createLogger } from './logger.ts';

describe('logs', () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  let app: App;
  let token: string;
  let destroy: () => Promise<void>;
  beforeAll(async () => {
    const database = await createTestDatabase('sqlite');
    destroy = database.destroy;
    app = await createApp({
      config: configSchema.parse({ databaseUrl: database.url }),
      database,
      logger: createLogger('trace', sink),
    });
    token = (await bootstrapAdmin(app))!.token;
  });
  afterAll(async () => {
    await app.close();
    await destroy();
  });

  it('log every request with its id and never a token or a password', async () => {
    await app.http.inject({
      method: 'GET',
      url: '/api/v1/whoami',
      headers: { authorization: `Bearer ${token}`, 'x-request-id': 'req-123' },
    });
    await app.http.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: { authorization: `Bearer ${token}` },
      payload: { name: 'zed', password: 'a very secret password' },
    });
    await app.http.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { name: 'zed', password: 'a very secret password' },
    });
    const all = lines.join('');
    expect(all).toContain('req-123');
    expect(all).not.toContain(token);
    expect(all).not.toContain(token.slice(4, 20));
    expect(all).not.toContain('a very secret password');
  });
});
