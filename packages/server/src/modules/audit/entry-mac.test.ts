import { createHmac, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';
import { EntryAuthenticator } from './entry-mac.ts';

describe('entry MACs', () => {
  it('are HMAC-SHA256 under the hex key, over "<seq>\\n<leaf hash>"', () => {
    const key = randomBytes(32).toString('hex');
    const auth = new EntryAuthenticator(key);
    for (const seq of [0, 1, 255, 2 ** 40, Number.MAX_SAFE_INTEGER]) {
      const leaf = randomBytes(32).toString('hex');
      const mac = createHmac('sha256', key).update(`${seq}\n${leaf}`).digest('hex');
      expect(auth.mac(seq, leaf)).toBe(mac);
      expect(auth.verify(seq, leaf, mac)).toBe(true);
      expect(auth.verify(seq + 1, leaf, mac)).toBe(false);
      expect(auth.verify(seq, leaf, null)).toBe(false);
    }
    const other = new EntryAuthenticator(randomBytes(32).toString('hex'));
    expect(other.verify(3, 'ab'.repeat(32), auth.mac(3, 'ab'.repeat(32)))).toBe(false);
    expect(() => new EntryAuthenticator('not hex')).toThrow(/64 lowercase hex/);
  });
});

for (const dialect of dialects) {
  describe(`the audit writer authenticates every entry [${dialect}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(dialect);
    });
    afterAll(async () => t?.close());

    it('stores a MAC with each row that the database cannot recompute, and never serves it', async () => {
      const rows = (
        await sql<{
          seq: number;
          leaf_hash: string;
          entry_mac: string | null;
        }>`select seq, leaf_hash, entry_mac from audit_entries order by seq`.execute(
          t.app.database.db,
        )
      ).rows;
      expect(rows.length).toBeGreaterThan(0);
      const leaves = await t.app.services.audit.leafHashes(-1, 1000);
      for (const [i, r] of rows.entries()) {
        expect(r.entry_mac).toMatch(/^[0-9a-f]{64}$/);
        expect(leaves[i]).toEqual({ seq: Number(r.seq), leafHash: r.leaf_hash, mac: r.entry_mac });
      }
      // Fresh database: every entry from the first needs a MAC.
      expect(await t.app.services.audit.macsFrom()).toBe(0);
      const api = await t.request({ method: 'GET', url: '/api/v1/audit/entries?limit=5' });
      expect(api.body).not.toContain(rows[0]!.entry_mac!);
    });
  });
}
