import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from './bootstrap.ts';
import { KyselyScmStore } from './modules/scm/index.ts';
import { ManualClock } from './platform/clock.ts';
import { createTestApp, type TestApp } from './platform/testing/test-app.ts';
import { dialects } from './platform/testing/test-databases.ts';
import { TestRunner } from './platform/testing/test-runner.ts';

// Every listing pages with a cursor: walking all pages sees every item exactly once, also
// when items are added between pages. The clock stands still, so time-ordered listings have
// ties that only the keyset's last column breaks.

type Item = Record<string, unknown>;

interface Listing {
  readonly name: string;
  readonly url: string;
  readonly field?: string;
  readonly key: (item: Item) => string;
  seed(i: number): Promise<void>;
}

// Spread names out so that items added later sort before and after the cursor.
const spread = (i: number) => String((i * 7919) % 1000).padStart(3, '0');

for (const dialect of dialects) {
  describe(`pagination of every listing [${dialect}]`, () => {
    let t: TestApp;
    const scm = new KyselyScmStore();
    const api = async (method: 'GET' | 'POST' | 'PUT', url: string, json?: unknown) => {
      const res = await t.request({ method, url, ...(json !== undefined ? { json } : {}) });
      expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(300);
      return res.json() as Record<string, unknown>;
    };
    const apply = async (yaml: string) => expect((await t.apply(yaml)).statusCode).toBe(200);

    beforeAll(async () => {
      t = await createTestApp(dialect, { clock: new ManualClock('2026-06-01T08:00:00Z') });
      await apply(`apiVersion: custody/v1
kind: Project
metadata: { name: shop }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: shop }
spec: { type: production, changeRecord: native }
`);
    });
    afterAll(async () => t?.close());

    const listings: Listing[] = [
      {
        name: 'resources of a kind',
        url: '/api/v1/resources/Project',
        key: (i) => String(i.name),
        seed: (i) =>
          apply(`apiVersion: custody/v1\nkind: Project\nmetadata: { name: p-${spread(i)} }\n`),
      },
      {
        name: 'resources of a kind in a project',
        url: '/api/v1/resources/Environment?project=shop',
        key: (i) => String(i.name),
        seed: (i) =>
          apply(
            `apiVersion: custody/v1\nkind: Environment\nmetadata: { name: e-${spread(i)}, project: shop }\nspec: { type: pre-production }\n`,
          ),
      },
      {
        name: 'versions of a resource',
        url: '/api/v1/resources/Project/versioned/versions',
        key: (i) => String(i.version),
        seed: (i) =>
          apply(
            `apiVersion: custody/v1\nkind: Project\nmetadata: { name: versioned }\nspec: { description: v${i} }\n`,
          ),
      },
      {
        name: 'users',
        url: '/api/v1/users',
        key: (i) => String(i.name),
        seed: async (i) => void (await api('POST', '/api/v1/users', { name: `u${spread(i)}` })),
      },
      {
        name: 'service accounts',
        url: '/api/v1/serviceaccounts',
        key: (i) => String(i.name),
        seed: async (i) =>
          void (await api('POST', '/api/v1/serviceaccounts', { name: `sa${spread(i)}` })),
      },
      {
        name: 'tokens',
        url: '/api/v1/tokens?all=true',
        key: (i) => String(i.id),
        seed: async (i) => void (await api('POST', '/api/v1/tokens', { ttl: '1d', name: `t${i}` })),
      },
      {
        name: 'change requests',
        url: '/api/v1/changes?project=shop',
        key: (i) => String(i.id),
        seed: async (i) =>
          void (await api('POST', '/api/v1/changes', {
            project: 'shop',
            environment: 'prod',
            riskClass: 'normal',
            title: `release ${i}`,
          })),
      },
      {
        name: 'freeze overrides',
        url: '/api/v1/freeze/overrides',
        key: (i) => String(i.id),
        seed: async (i) =>
          void (await api('POST', '/api/v1/freeze/overrides', {
            project: 'shop',
            environment: 'prod',
            reason: `hotfix ${i}`,
          })),
      },
      {
        name: 'secrets',
        url: '/api/v1/projects/shop/secrets',
        key: (i) => `${String(i.environment)}/${String(i.name)}`,
        seed: async (i) =>
          void (await api('PUT', `/api/v1/projects/shop/secrets/S${spread(i)}`, {
            value: 'x',
            ...(i % 2 ? { environment: 'prod' } : {}),
          })),
      },
      {
        name: 'runners',
        url: '/api/v1/runners',
        key: (i) => String(i.id),
        seed: async (i) => void (await TestRunner.register(t, `r-${spread(i)}`)),
      },
      {
        name: 'audit streams',
        url: '/api/v1/streams',
        field: 'destinations',
        key: (i) => String(i.name),
        seed: (i) =>
          apply(
            `apiVersion: custody/v1\nkind: AuditStream\nmetadata: { name: s-${spread(i)} }\nspec: { type: webhook, url: 'https://siem.example/${i}', enabled: false }\n`,
          ),
      },
      {
        name: 'pull requests',
        url: '/api/v1/projects/shop/scm/changes',
        field: 'changes',
        key: (i) => `${String(i.repository)}#${String(i.number)}`,
        seed: (i) =>
          scm.upsertChange(t.app.database.db, {
            provider: 'github',
            project: 'shop',
            repository: `org/repo-${i % 3}`,
            number: (i * 37) % 101,
            title: `PR ${i}`,
            author: 'github:alice',
            state: 'open',
            head_sha: null,
            merge_commit_sha: null,
            merged: 0,
            target_branch: 'main',
            updated_at: '2026-06-01T08:00:00.000Z',
          }),
      },
      {
        name: 'pushed commits',
        url: '/api/v1/projects/shop/scm/commits',
        key: (i) => String(i.sha),
        seed: (i) =>
          scm.addCommit(t.app.database.db, {
            provider: 'github',
            project: 'shop',
            repository: 'org/repo',
            sha: `${spread(i)}`.repeat(13).slice(0, 40),
            ref: 'refs/heads/main',
            author: 'github:alice',
            committer: 'github:alice',
            pushed_by: 'github:alice',
            received_at: '2026-06-01T08:00:00.000Z',
          }),
      },
    ];

    const page = async (l: Listing, limit: number, cursor?: string) => {
      const sep = l.url.includes('?') ? '&' : '?';
      const url = `${l.url}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const body = await api('GET', url);
      return { items: body[l.field ?? 'items'] as Item[], next: body.next as string | null };
    };

    for (const l of listings) {
      it(`${l.name}: every item exactly once across pages, with items added in between`, async () => {
        let seeded = 0;
        while (seeded < 12) await l.seed(seeded++);
        const before = (await page(l, 1000)).items.map(l.key);
        expect(before.length).toBeGreaterThanOrEqual(12);
        const seen: string[] = [];
        let cursor: string | undefined;
        for (let pages = 0; pages < 50; pages++) {
          const p = await page(l, 5, cursor);
          expect(p.items.length).toBeLessThanOrEqual(5);
          seen.push(...p.items.map(l.key));
          if (!p.next) break;
          cursor = p.next;
          // Two more items between pages, sorting anywhere.
          await l.seed(seeded++);
          await l.seed(seeded++);
        }
        expect(new Set(seen).size).toBe(seen.length);
        for (const key of before) expect(seen).toContain(key);
        const after = (await page(l, 1000)).items.map(l.key);
        for (const key of seen) expect(after).toContain(key);
      });
    }

    it('the audit trail pages by sequence number: next is null on the last page', async () => {
      const first = await api('GET', '/api/v1/audit/entries?limit=3');
      expect((first.entries as Item[]).length).toBe(3);
      const seen: number[] = [];
      let after: number | null = null;
      for (;;) {
        const body = await api(
          'GET',
          `/api/v1/audit/entries?limit=50${after !== null ? `&after=${after}` : ''}`,
        );
        seen.push(...(body.entries as Item[]).map((e) => Number(e.seq)));
        after = body.next as number | null;
        if (after === null) break;
      }
      expect(seen).toEqual([...Array(seen.length).keys()]);
      expect(seen.length).toBe(await t.app.services.audit.size());
    });

    it('refuses a forged cursor, or one from another listing or other filters, with a code', async () => {
      const { next } = await api('GET', '/api/v1/users?limit=1');
      expect(typeof next).toBe('string');
      const refused = async (url: string) => {
        const res = await t.request({ method: 'GET', url });
        expect(res.statusCode, url).toBe(400);
        expect(res.json().error.code).toBe('PAGINATION_CURSOR_INVALID');
      };
      await refused('/api/v1/users?cursor=not-a-cursor!');
      await refused(`/api/v1/users?cursor=${Buffer.from('{"s":1}').toString('base64url')}`);
      await refused(`/api/v1/serviceaccounts?cursor=${String(next)}`);
      const envNext = (await api('GET', '/api/v1/resources/Environment?project=shop&limit=1')).next;
      await refused(`/api/v1/resources/Environment?cursor=${String(envNext)}`);
      // Right listing, wrong shape of position.
      const decoded = JSON.parse(Buffer.from(String(next), 'base64url').toString()) as {
        s: string;
        p: unknown[];
      };
      const forged = (p: unknown[]) =>
        Buffer.from(JSON.stringify({ s: decoded.s, p })).toString('base64url');
      await refused(`/api/v1/users?cursor=${forged([1, 2])}`);
      await refused(`/api/v1/users?cursor=${forged(['a'])}`);
      // A hand-made position is only a place to start: the filters and permissions still hold.
      const alice = await t.user('alice');
      for (const name of ['a1', 'a2'])
        await t.app.services.identity.createToken(systemContext(t.app, 'test'), {
          principal: { kind: 'user', name: 'alice' },
          ttlMs: 86_400_000,
          name,
        });
      const mine = await t.request({ method: 'GET', url: '/api/v1/tokens?limit=1', token: alice });
      const own = JSON.parse(Buffer.from(String(mine.json().next), 'base64url').toString()) as {
        s: string;
      };
      const fromStart = Buffer.from(JSON.stringify({ s: own.s, p: ['', ''] })).toString(
        'base64url',
      );
      const crafted = await t.request({
        method: 'GET',
        url: `/api/v1/tokens?cursor=${fromStart}`,
        token: alice,
      });
      expect(crafted.statusCode).toBe(200);
      const owners = (crafted.json().items as { principal: { name: string } }[]).map(
        (i) => i.principal.name,
      );
      expect(owners.length).toBeGreaterThanOrEqual(3);
      expect(new Set(owners)).toEqual(new Set(['alice']));
      // Someone else's cursor (here the admin's, for the admin's own tokens) is refused.
      const adminNext = (await api('GET', '/api/v1/tokens?limit=1')).next;
      const replay = await t.request({
        method: 'GET',
        url: `/api/v1/tokens?cursor=${String(adminNext)}`,
        token: alice,
      });
      expect(replay.statusCode).toBe(400);
      expect(replay.json().error.code).toBe('PAGINATION_CURSOR_INVALID');
    });

    it('caps limit at 1000 and refuses a limit below 1', async () => {
      const docs = Array.from(
        { length: 1001 },
        (_, i) => `apiVersion: custody/v1\nkind: Project\nmetadata: { name: bulk-${i} }\n`,
      );
      await apply(docs.join('---\n'));
      const big = await api('GET', '/api/v1/resources/Project?limit=100000');
      expect((big.items as Item[]).length).toBe(1000);
      expect(typeof big.next).toBe('string');
      const audit = await api('GET', '/api/v1/audit/entries?limit=100000');
      expect((audit.entries as Item[]).length).toBe(1000);
      const zero = await t.request({ method: 'GET', url: '/api/v1/resources/Project?limit=0' });
      expect(zero.statusCode).toBe(400);
      expect(zero.json().error.code).toBe('REQUEST_INVALID');
    });
  });
}
