import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { publicKeyId } from '@custody/ledger';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../app.ts';
import { configSchema } from '../../platform/config/config.ts';
import { createLogger } from '../../platform/log/logger.ts';
import { createTestDatabase } from '../../platform/testing/test-databases.ts';
import { attestationKeyPath, loadOrCreateAttestationKey } from './attestation-key.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'custody-attest-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('attestation key file', () => {
  it('is created as a PKCS#8 P-256 PEM with mode 0600 and read again, unchanged, on the next load', () => {
    const file = attestationKeyPath({ dataDir: dir });
    expect(file).toBe(path.join(dir, 'attest.key'));
    const created = loadOrCreateAttestationKey({ dataDir: dir });
    const pem = readFileSync(file, 'utf8');
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(created.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(created.keyId).toBe(publicKeyId(created.publicKeyPem));
    const again = loadOrCreateAttestationKey({ dataDir: dir });
    expect(again.keyId).toBe(created.keyId);
    expect(readFileSync(file, 'utf8')).toBe(pem);
  });

  it('uses a configured file, never creates one, and refuses what is no P-256 private key without echoing it', () => {
    const configured = path.join(dir, 'configured.key');
    expect(() => loadOrCreateAttestationKey({ dataDir: dir, attestKeyFile: configured })).toThrow(
      expect.objectContaining({ code: 'ATTESTATIONS_KEY_UNREADABLE' }),
    );
    expect(existsSync(configured)).toBe(false);
    expect(existsSync(path.join(dir, 'attest.key'))).toBe(false);

    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(configured, privateKey.export({ type: 'pkcs8', format: 'pem' }), {
      mode: 0o600,
    });
    const pub = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const key = loadOrCreateAttestationKey({ dataDir: dir, attestKeyFile: configured });
    expect(key.publicKeyPem).toBe(pub);
    expect(existsSync(path.join(dir, 'attest.key'))).toBe(false);

    const garbage = path.join(dir, 'garbage.key');
    writeFileSync(garbage, 'SECRET-CONTENT');
    let message = '';
    try {
      loadOrCreateAttestationKey({ dataDir: dir, attestKeyFile: garbage });
    } catch (err) {
      message = (err as Error).message;
      expect(err).toMatchObject({ code: 'ATTESTATIONS_KEY_UNREADABLE' });
    }
    expect(message).toContain('does not hold a PEM private key');
    expect(message).not.toContain('SECRET-CONTENT');

    const ed = path.join(dir, 'ed25519.key');
    writeFileSync(
      ed,
      generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }),
    );
    expect(() => loadOrCreateAttestationKey({ dataDir: dir, attestKeyFile: ed })).toThrow(
      /does not hold an ECDSA P-256 key/,
    );
  });

  it('survives a server restart: the second app serves the same public key from the same file', async () => {
    const database = await createTestDatabase('sqlite');
    const start = () =>
      createApp({
        config: configSchema.parse({ databaseUrl: database.url, dataDir: dir, logLevel: 'silent' }),
        database,
        logger: createLogger('silent'),
      });
    const publicKey = async (app: Awaited<ReturnType<typeof start>>) => {
      const res = await app.http.inject({ method: 'GET', url: '/api/v1/attestations/public-key' });
      expect(res.statusCode).toBe(200);
      return res.body;
    };
    try {
      const first = await start();
      const pem = await publicKey(first);
      const keyFile = readFileSync(path.join(dir, 'attest.key'), 'utf8');
      await first.close();
      const second = await start();
      try {
        expect(await publicKey(second)).toBe(pem);
        expect(readFileSync(path.join(dir, 'attest.key'), 'utf8')).toBe(keyFile);
        expect(statSync(path.join(dir, 'attest.key')).mode & 0o777).toBe(0o600);
      } finally {
        await second.close();
      }
    } finally {
      await database.destroy();
    }
  });
});
