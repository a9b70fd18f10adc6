import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../errors.ts';
import { loadConfig } from './config.ts';

describe('configuration', () => {
  it('layers defaults < file < environment < flags', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'custody-config-'));
    const file = path.join(dir, 'custody.yaml');
    writeFileSync(file, 'databaseUrl: /var/lib/custody.db\nport: 9000\nlogLevel: debug\n');
    const config = loadConfig({ file, env: { CUSTODY_PORT: '9001' }, flags: { logLevel: 'warn' } });
    expect(config).toMatchObject({
      databaseUrl: '/var/lib/custody.db',
      port: 9001,
      logLevel: 'warn',
      host: '127.0.0.1',
      tokenMaxTtl: '90d',
    });
  });

  it('honours DATABASE_URL when CUSTODY_DATABASE_URL is not set', () => {
    expect(loadConfig({ env: { DATABASE_URL: 'postgres://x@localhost/db' } }).databaseUrl).toBe(
      'postgres://x@localhost/db',
    );
  });

  it('fails fast with a message naming the setting, its flag and its variable', () => {
    try {
      loadConfig({
        env: {
          CUSTODY_DATABASE_URL: 'x.db',
          CUSTODY_PORT: '70000',
          CUSTODY_TOKEN_MAX_TTL: 'forever',
        },
      });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(DomainError);
      expect((err as DomainError).code).toBe('CONFIG_INVALID');
      expect((err as Error).message).toContain('port');
      expect((err as Error).message).toContain('CUSTODY_PORT');
      expect((err as Error).message).toContain('--token-max-ttl');
    }
  });

  it('rejects unknown keys in the file and a missing database URL', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'custody-config-'));
    const file = path.join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ databaseUrl: 'x.db', colour: 'blue' }));
    expect(() => loadConfig({ file, env: {} })).toThrow(/colour|Unrecognized/);
    expect(() => loadConfig({ env: {} })).toThrow(/databaseUrl/);
  });

  it('takes the gate wait limit as a duration and refuses anything else', () => {
    const env = { CUSTODY_DATABASE_URL: 'x.db' };
    expect(loadConfig({ env }).gateWaitTimeout).toBe('7d');
    expect(loadConfig({ env: { ...env, CUSTODY_GATE_WAIT_TIMEOUT: '36h' } }).gateWaitTimeout).toBe(
      '36h',
    );
    expect(() => loadConfig({ env: { ...env, CUSTODY_GATE_WAIT_TIMEOUT: 'soon' } })).toThrow(
      /gateWaitTimeout/,
    );
  });
});
