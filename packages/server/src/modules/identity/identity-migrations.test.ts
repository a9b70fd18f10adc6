import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../platform/db/database.ts';
import { migrateToLatest } from '../../platform/db/migrator.ts';
import { createTestDatabase, dialects } from '../../platform/testing/test-databases.ts';
import { identityMigrations } from './migrations.ts';

// Databases written before names became case-insensitive, before tokens named their issuer
// and before linked identities: the upgrade keeps every person who they were.
const [firstName, first] = Object.entries(identityMigrations)[0]!;
const original = { [firstName]: first! };

const at = '2026-05-01T00:00:00.000Z';
const principal = (id: string, name: string, kind = 'user', email: string | null = null) => ({
  id,
  kind,
  name,
  email,
  password_hash: null,
  created_at: at,
  deleted_at: null,
});
const token = (id: string, principalId: string, kind: string, createdBy: string) => ({
  id,
  kind,
  principal_id: principalId,
  name: id,
  token_hash: `hash-${id}`,
  scopes: '{}',
  created_at: at,
  created_by: createdBy,
  expires_at: '2027-01-01T00:00:00.000Z',
  revoked_at: null,
  last_used_at: null,
});

for (const dialect of dialects) {
  describe(`identity upgrade of existing data [${dialect}]`, () => {
    let database: Database | undefined;
    afterEach(async () => {
      await database?.destroy();
      database = undefined;
    });

    it('lower-cases memberships and bindings, names token issuers, links existing e-mails', async () => {
      database = await createTestDatabase(dialect);
      const db = database.db;
      await migrateToLatest(database, [original]);
      await db
        .insertInto('identity_principals')
        .values([
          principal('p-admin', 'admin'),
          principal('p-alice', 'Alice', 'user', 'Alice@Corp.Example'),
          principal('p-bot', 'ci-bot', 'service_account'),
        ])
        .execute();
      await db.insertInto('identity_groups').values({ name: 'rm', description: '' }).execute();
      await db
        .insertInto('identity_group_members')
        .values([
          { group_name: 'rm', principal_type: 'user', principal_name: 'Alice' },
          { group_name: 'rm', principal_type: 'user', principal_name: 'ALICE' },
          { group_name: 'rm', principal_type: 'user', principal_name: 'admin' },
        ])
        .execute();
      await db
        .insertInto('identity_role_bindings')
        .values({
          name: 'alice-rm',
          principal_type: 'user',
          principal_name: 'Alice',
          role: 'release-manager',
          scope_project: null,
          scope_environment: null,
          effect: 'allow',
        })
        .execute();
      await db
        .insertInto('identity_tokens')
        .values([
          token('tok-boot', 'p-admin', 'token', 'custody'),
          token('tok-for-alice', 'p-alice', 'token', 'admin'),
          token('tok-own', 'p-alice', 'token', 'Alice'),
          token('ses-alice', 'p-alice', 'session', 'Alice'),
          token('tok-bot', 'p-bot', 'token', 'admin'),
        ])
        .execute();

      await migrateToLatest(database, [identityMigrations]);

      const members = await db
        .selectFrom('identity_group_members')
        .select('principal_name')
        .orderBy('principal_name')
        .execute();
      expect(members.map((m) => m.principal_name)).toEqual(['admin', 'alice']);
      const binding = await db
        .selectFrom('identity_role_bindings')
        .select('principal_name')
        .executeTakeFirstOrThrow();
      expect(binding.principal_name).toBe('alice');
      const issuers = await db
        .selectFrom('identity_tokens')
        .select(['id', 'created_by'])
        .orderBy('id')
        .execute();
      expect(Object.fromEntries(issuers.map((r) => [r.id, r.created_by]))).toEqual({
        'ses-alice': 'user:Alice',
        'tok-boot': 'system:custody',
        'tok-bot': 'user:admin',
        'tok-for-alice': 'user:admin',
        'tok-own': 'user:Alice',
      });
      // The stored name keeps its case, so records naming user:Alice still name her.
      const alice = await db
        .selectFrom('identity_principals')
        .selectAll()
        .where('id', '=', 'p-alice')
        .executeTakeFirstOrThrow();
      expect(alice).toMatchObject({ name: 'Alice', created_by: null });
      const links = await db.selectFrom('identity_links').selectAll().execute();
      expect(links).toMatchObject([
        {
          principal_id: 'p-alice',
          kind: 'email',
          value: 'Alice@Corp.Example',
          normalized: 'alice@corp.example',
          source: 'profile',
          removed_at: null,
        },
      ]);
    });

    it('refuses to guess when two live users differ only in case or share an e-mail', async () => {
      database = await createTestDatabase(dialect);
      await migrateToLatest(database, [original]);
      await database.db
        .insertInto('identity_principals')
        .values([principal('p1', 'BOB'), principal('p2', 'bob')])
        .execute();
      await expect(migrateToLatest(database, [identityMigrations])).rejects.toThrow(
        /differ only in case: bob/,
      );
      await database.destroy();

      database = await createTestDatabase(dialect);
      await migrateToLatest(database, [original]);
      await database.db
        .insertInto('identity_principals')
        .values([
          principal('p1', 'erin', 'user', 'erin@corp.example'),
          principal('p2', 'erin2', 'user', 'ERIN@corp.example '),
        ])
        .execute();
      await expect(migrateToLatest(database, [identityMigrations])).rejects.toThrow(
        /sharing an e-mail address: erin@corp.example/,
      );
      // Nothing of the refused step stays behind: it checks before it changes anything.
      const tables =
        dialect === 'sqlite'
          ? await sql<{
              name: string;
            }>`select name from sqlite_master where type = 'table' and name = 'identity_links'`.execute(
              database.db,
            )
          : await sql<{
              name: string;
            }>`select tablename as name from pg_tables where tablename = 'identity_links'`.execute(
              database.db,
            );
      expect(tables.rows).toEqual([]);
    });
  });
}
