import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateSignerKey } from '@custody/ledger';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../app.ts';
import { Sealer } from '../../platform/crypto/sealer.ts';
import { createLogger } from '../../platform/log/logger.ts';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';
import { deriveSealingKey } from '../streams/index.ts';

const key = () => randomBytes(32);
const b64 = (k: Buffer) => k.toString('base64');
const manifest = `apiVersion: custody/v1
kind: Project
metadata: { name: vault }
---
apiVersion: custody/v1
kind: ChangeConnector
metadata: { name: snow }
spec: { type: servicenow, baseUrl: 'http://127.0.0.1:1', scope: { projects: [vault] } }
---
apiVersion: custody/v1
kind: AuditStream
metadata: { name: siem }
spec: { type: webhook, url: 'https://127.0.0.1:1/hook', enabled: false }
`;
const plain = {
  secret: 'job-secret-value-1',
  webhook: 'webhook-secret-value-2',
  credential: 'connector-password-3',
  stream: 'stream-hmac-key-4',
};
// What each store binds its values to (the sealer's associated data).
const contexts = {
  secrets: 'secrets/vault//TOKEN',
  'scm-webhook-secrets': 'scm/webhook-secret/vault/github',
  'changes-connector-credentials': 'changes/connector-credential',
  'stream-secrets': 'streams/secret/siem',
};

interface SealedRows {
  secrets: string;
  'scm-webhook-secrets': string;
  'changes-connector-credentials': string;
  'stream-secrets': string;
}

async function sealedRows(app: App): Promise<SealedRows> {
  const one = async (q: ReturnType<typeof sql<{ s: string }>>) =>
    (await q.execute(app.database.db)).rows[0]!.s;
  return {
    secrets: await one(sql`select sealed as s from secrets where name = 'TOKEN'`),
    'scm-webhook-secrets': await one(sql`select sealed as s from scm_webhook_secrets`),
    'changes-connector-credentials': await one(
      sql`select secret as s from change_connector_credentials`,
    ),
    'stream-secrets': await one(sql`select sealed as s from stream_secrets`),
  };
}

// A version of a production secret waiting for a second person: sealed to its own version.
const pendingValue = 'pending-prod-value-5';
const pendingContext = 'secrets-pending/vault/prod/TOKEN@1';
const pendingSealed = async (app: App) =>
  (
    await sql<{
      s: string;
    }>`select sealed as s from secret_changes where state = 'pending'`.execute(app.database.db)
  ).rows[0]!.s;
const setNames = ['secrets', 'secrets-pending', ...Object.keys(contexts).slice(1)];

const expected: Record<keyof SealedRows, string> = {
  secrets: plain.secret,
  'scm-webhook-secrets': plain.webhook,
  'changes-connector-credentials': plain.credential,
  'stream-secrets': plain.stream,
};

function openAll(sealer: Sealer, rows: SealedRows): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [set, sealed] of Object.entries(rows))
    out[set] = sealer.open(sealed, contexts[set as keyof SealedRows]);
  return out;
}

async function startError(p: Promise<App>): Promise<{ code?: string; message: string }> {
  try {
    const app = await p;
    await app.close();
  } catch (err) {
    return err as { code?: string; message: string };
  }
  return { message: 'started' };
}

for (const dialect of dialects) {
  describe(`one sealing key for the deployment [${dialect}]`, () => {
    let t: TestApp;
    const k1 = key();
    const k2 = key();
    const opened: App[] = [];
    // Another replica on the same database, with its own data directory and the keys given.
    const replica = (keys: Buffer[], extra: Record<string, unknown> = {}) =>
      createApp({
        config: {
          ...t.app.config,
          dataDir: mkdtempSync(path.join(tmpdir(), 'custody-replica-')),
          secretsKey: keys.map(b64).join(','),
          ...extra,
        },
        database: t.app.database,
        logger: createLogger('silent'),
      });
    const call = async (app: App, method: 'GET' | 'POST', url: string) => {
      const res = await app.http.inject({
        method,
        url,
        headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' },
        ...(method === 'POST' ? { payload: '{}' } : {}),
      });
      return { status: res.statusCode, body: res.json() as Record<string, unknown> };
    };

    beforeAll(async () => {
      t = await createTestApp(dialect, { config: { secretsKey: b64(k1) } });
      expect((await t.apply(manifest)).statusCode).toBe(200);
      for (const [url, json] of [
        ['/api/v1/projects/vault/secrets/TOKEN', { value: plain.secret }],
        ['/api/v1/projects/vault/scm/webhook-secrets/github', { value: plain.webhook }],
        [
          '/api/v1/changes/connectors/snow/credentials',
          { username: 'u', password: plain.credential },
        ],
        ['/api/v1/streams/siem/secret', { value: plain.stream }],
      ] as const)
        expect((await t.request({ method: 'PUT', url, json })).statusCode, url).toBe(200);
      const prod = `apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: vault }
spec: { type: production }
`;
      expect((await t.apply(prod)).statusCode).toBe(200);
      const pending = await t.request({
        method: 'PUT',
        url: '/api/v1/projects/vault/secrets/TOKEN',
        json: { value: pendingValue, environment: 'prod' },
      });
      expect(pending.json()).toMatchObject({ state: 'pending', version: 1 });
    });
    afterAll(async () => {
      for (const app of opened) await app.close();
      await t.close();
    });

    it('stores every kind of sealed value in the one format, under the configured key', async () => {
      const rows = await sealedRows(t.app);
      const sealer = new Sealer([k1]);
      for (const sealed of Object.values(rows))
        expect(sealer.keyIdOf(sealed)).toBe(sealer.currentKeyId);
      expect(openAll(sealer, rows)).toEqual(expected);
      const waiting = await pendingSealed(t.app);
      expect(sealer.keyIdOf(waiting)).toBe(sealer.currentKeyId);
      expect(sealer.open(waiting, pendingContext)).toBe(pendingValue);
      // Bound to its version: it does not open as the row in force.
      expect(() => sealer.open(waiting, 'secrets/vault/prod/TOKEN')).toThrow();
    });

    it('a replica with a wrong key, or none configured, refuses to start with SEALING_KEY_MISSING', async () => {
      const wrong = await startError(replica([key()]));
      expect(wrong.code).toBe('SEALING_KEY_MISSING');
      expect(wrong.message).toContain(new Sealer([k1]).currentKeyId);
      // No key configured: the replica would make its own in its data directory.
      const own = await startError(replica([], { secretsKey: undefined }));
      expect(own.code).toBe('SEALING_KEY_MISSING');
      // The refused replica registered nothing, so the others keep starting.
      const fine = await replica([k1]);
      opened.push(fine);
      expect(openAll(fine.sealer, await sealedRows(fine))).toEqual(expected);
    });

    it('rotation: add the new key, reseal, then the old key can go — every value stays readable', async () => {
      const both = await replica([k1, k2]);
      opened.push(both);
      expect(openAll(both.sealer, await sealedRows(both))).toEqual(expected);
      const developer = await t.user('dave', ['developer']);
      const denied = await both.http.inject({
        method: 'POST',
        url: '/api/v1/secrets/reseal',
        headers: { authorization: `Bearer ${developer}`, 'content-type': 'application/json' },
        payload: '{}',
      });
      expect(denied.statusCode).toBe(403);

      const resealed = await call(both, 'POST', '/api/v1/secrets/reseal');
      expect(resealed.status).toBe(200);
      expect(resealed.body).toMatchObject({
        keyId: both.sealer.currentKeyId,
        retired: [new Sealer([k1]).currentKeyId],
      });
      expect(resealed.body.sets).toEqual(setNames.map((name) => ({ name, total: 1, resealed: 1 })));
      const rows = await sealedRows(both);
      const onlyNew = new Sealer([k2]);
      for (const sealed of Object.values(rows)) expect(onlyNew.isCurrent(sealed)).toBe(true);
      expect(openAll(onlyNew, rows)).toEqual(expected);
      const waiting = await pendingSealed(both);
      expect(onlyNew.isCurrent(waiting)).toBe(true);
      expect(onlyNew.open(waiting, pendingContext)).toBe(pendingValue);

      // Idempotent: nothing left to do, and still recorded.
      const again = await call(both, 'POST', '/api/v1/secrets/reseal');
      expect(again.body.sets).toEqual(setNames.map((name) => ({ name, total: 1, resealed: 0 })));
      expect(again.body.retired).toEqual([]);
      const entries = await t.app.services.audit.list({ action: 'secrets.sealing.*', limit: 100 });
      expect(entries.filter((e) => e.action === 'secrets.sealing.resealed')).toHaveLength(10);
      expect(JSON.stringify(entries)).not.toMatch(/value-[1-5]|password-3/);

      // Resealed while it waited, the version is still the one approved: a second person
      // approves it and it is in force, sealed to the secret's row under the new key.
      const cab = await t.user('cab', ['approver']);
      const listed = await both.http.inject({
        method: 'GET',
        url: '/api/v1/projects/vault/secrets',
        headers: { authorization: `Bearer ${t.adminToken}` },
      });
      const prodToken = (
        listed.json().items as { environment: string | null; pending: { approval: string } }[]
      ).find((i) => i.environment === 'prod')!;
      const approved = await both.http.inject({
        method: 'POST',
        url: `/api/v1/approvals/${prodToken.pending.approval}/approve`,
        headers: { authorization: `Bearer ${cab}`, 'content-type': 'application/json' },
        payload: '{}',
      });
      expect(approved.statusCode, approved.body).toBe(200);
      const inForce = (
        await sql<{
          s: string;
        }>`select sealed as s from secrets where environment = 'prod'`.execute(both.database.db)
      ).rows[0]!.s;
      expect(onlyNew.open(inForce, 'secrets/vault/prod/TOKEN')).toBe(pendingValue);

      // The new key alone is enough now; the old key alone is not.
      const newOnly = await replica([k2]);
      opened.push(newOnly);
      const status = await call(newOnly, 'GET', '/api/v1/secrets/sealing');
      expect(status.body).toMatchObject({ currentKeyId: onlyNew.currentKeyId });
      expect(openAll(newOnly.sealer, await sealedRows(newOnly))).toEqual(expected);
      const oldOnly = await startError(replica([k1]));
      expect(oldOnly.code).toBe('SEALING_KEY_MISSING');
    });

    it('a replica whose newest key was retired refuses to start (it would seal under a key the others dropped)', async () => {
      const stale = await startError(replica([k2, k1]));
      expect(stale.code).toBe('SEALING_KEY_RETIRED');
    });
  });

  describe(`two replicas started with different keys on a fresh database [${dialect}]`, () => {
    it('the second one refuses to start, before anything is sealed', async () => {
      const t = await createTestApp(dialect, { config: { secretsKey: b64(key()) } });
      try {
        const other = await startError(
          createApp({
            config: { ...t.app.config, secretsKey: b64(key()) },
            database: t.app.database,
            logger: createLogger('silent'),
          }),
        );
        expect(other.code).toBe('SEALING_KEY_MISSING');
      } finally {
        await t.close();
      }
    });
  });

  describe(`values sealed in the two formats before key ids [${dialect}]`, () => {
    let t: TestApp;
    let upgraded: App | undefined;
    const dataDir = mkdtempSync(path.join(tmpdir(), 'custody-legacy-'));
    const ledgerKeyFile = path.join(dataDir, 'ledger.key');
    writeFileSync(ledgerKeyFile, generateSignerKey('legacy.test/ledger').signerKey + '\n');
    const legacy = (k: Buffer, value: string) => {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', k, iv);
      const data = Buffer.concat([c.update(value, 'utf8'), c.final()]);
      return [iv, c.getAuthTag(), data].map((b) => b.toString('base64')).join('.');
    };

    beforeAll(async () => {
      t = await createTestApp(dialect, { config: { dataDir, ledgerKeyFile } });
      expect((await t.apply(manifest)).statusCode).toBe(200);
      // Rows as the previous release wrote them: project secrets and connector credentials under
      // DATA_DIR/secrets.key, stream secrets under a key derived from the ledger key, and the
      // GitHub webhook secret as a project secret.
      const dirKey = Buffer.from(readFileSync(path.join(dataDir, 'secrets.key'), 'utf8'), 'base64');
      const streamKey = deriveSealingKey(readFileSync(ledgerKeyFile));
      const db = t.app.database.db;
      const row = (name: string, sealed: string) =>
        sql`insert into secrets (project, environment, name, version, pools, sealed, updated_by, updated_at)
            values ('vault', '', ${name}, 3, '[]', ${sealed}, 'user:admin', '2026-11-30T00:00:00Z')`.execute(
          db,
        );
      await row('TOKEN', legacy(dirKey, plain.secret));
      await row('GITHUB_WEBHOOK_SECRET', legacy(dirKey, plain.webhook));
      await sql`insert into change_connector_credentials (connector, auth, username, secret, updated_at, updated_by)
          values ('snow', 'basic', 'u', ${`v1.${legacy(dirKey, plain.credential)}`}, '2026-11-30T00:00:00Z', 'user:admin')`.execute(
        db,
      );
      await sql`insert into stream_secrets (name, sealed, updated_at)
          values ('siem', ${legacy(streamKey, plain.stream)}, '2026-11-30T00:00:00Z')`.execute(db);
    });
    afterAll(async () => {
      await upgraded?.close();
      await t.close();
    });

    it('a replica without the old key refuses to start', async () => {
      const err = await startError(
        createApp({
          config: {
            ...t.app.config,
            dataDir: mkdtempSync(path.join(tmpdir(), 'custody-legacy-other-')),
            ledgerKeyFile,
          },
          database: t.app.database,
          logger: createLogger('silent'),
        }),
      );
      expect(err.code).toBe('SEALING_KEY_MISSING');
    });

    it('are sealed again at start-up, and the webhook secret leaves the job secrets', async () => {
      upgraded = await createApp({
        config: t.app.config,
        database: t.app.database,
        logger: createLogger('silent'),
      });
      const rows = await sealedRows(upgraded);
      for (const sealed of Object.values(rows))
        expect(upgraded.sealer.isCurrent(sealed)).toBe(true);
      expect(openAll(upgraded.sealer, rows)).toEqual(expected);
      const names = (
        await sql<{ name: string }>`select name from secrets`.execute(t.app.database.db)
      ).rows.map((r) => r.name);
      expect(names).toEqual(['TOKEN']);
      const actions = (await t.app.services.audit.list({ limit: 1000 })).map((e) => e.action);
      expect(actions).toEqual(
        expect.arrayContaining([
          'secrets.sealing.migrated',
          'secrets.secret.moved',
          'scm.webhook-secret.adopted',
        ]),
      );
      // GitHub deliveries still verify, now with the platform's own webhook secret.
      const body = JSON.stringify({ zen: 'hi', hook_id: 1 });
      const res = await upgraded.http.inject({
        method: 'POST',
        url: '/api/v1/webhooks/github/vault',
        payload: body,
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'ping',
          'x-github-delivery': 'legacy-1',
          'x-hub-signature-256': `sha256=${createHmac('sha256', plain.webhook).update(body).digest('hex')}`,
        },
      });
      expect(res.statusCode, res.body).toBe(200);
    });
  });
}
