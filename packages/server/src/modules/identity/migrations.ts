import { sql, type Kysely } from 'kysely';
import type { ModuleMigrations } from '../../platform/db/migrator.ts';

// Frozen: never edit a migration that has landed; add a new one.
export const identityMigrations: ModuleMigrations = {
  '2026-11-22T0510-identity-principals': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('identity_principals')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('email', 'text')
        .addColumn('password_hash', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('deleted_at', 'text')
        .execute();
      // Names are unique among live principals; a deleted name keeps its history.
      await sql`CREATE UNIQUE INDEX identity_principals_live_name ON identity_principals (name) WHERE deleted_at IS NULL`.execute(
        db,
      );
      await db.schema
        .createTable('identity_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('principal_id', 'text', (c) => c.notNull().references('identity_principals.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('scopes', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .addColumn('last_used_at', 'text')
        .execute();
      await db.schema
        .createIndex('identity_tokens_principal')
        .on('identity_tokens')
        .column('principal_id')
        .execute();
      await db.schema
        .createTable('identity_groups')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('description', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('identity_group_members')
        .addColumn('group_name', 'text', (c) =>
          c.notNull().references('identity_groups.name').onDelete('cascade'),
        )
        .addColumn('principal_type', 'text', (c) => c.notNull())
        .addColumn('principal_name', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('identity_group_members_pk', [
          'group_name',
          'principal_type',
          'principal_name',
        ])
        .execute();
      await db.schema
        .createIndex('identity_group_members_principal')
        .on('identity_group_members')
        .columns(['principal_type', 'principal_name'])
        .execute();
      await db.schema
        .createTable('identity_roles')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('permissions', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('identity_role_bindings')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('principal_type', 'text', (c) => c.notNull())
        .addColumn('principal_name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('scope_project', 'text')
        .addColumn('scope_environment', 'text')
        .addColumn('effect', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('identity_role_bindings_principal')
        .on('identity_role_bindings')
        .columns(['principal_type', 'principal_name'])
        .execute();
    },
  },
  '2026-12-02T1400-identity-case-insensitive-names': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      // `BOB` and `bob` would be one person to every reader; refuse to guess which one stays.
      // (Checked before any change: SQLite migrations run outside a transaction.)
      const clashes = await sql<{ names: string }>`
        SELECT lower(name) AS names FROM identity_principals WHERE deleted_at IS NULL
        GROUP BY lower(name) HAVING count(*) > 1`.execute(db);
      if (clashes.rows.length > 0)
        throw new Error(
          `principal names that differ only in case: ${clashes.rows.map((r) => r.names).join(', ')}; delete all but one of each (set deleted_at) and start again`,
        );
      await sql`DROP INDEX identity_principals_live_name`.execute(db);
      await sql`CREATE UNIQUE INDEX identity_principals_live_lower_name ON identity_principals (lower(name)) WHERE deleted_at IS NULL`.execute(
        db,
      );
      // Group members and binding principals are stored in lower case from now on.
      await sql`
        INSERT INTO identity_group_members (group_name, principal_type, principal_name)
        SELECT DISTINCT m.group_name, m.principal_type, lower(m.principal_name)
        FROM identity_group_members m
        WHERE m.principal_name <> lower(m.principal_name)
          AND NOT EXISTS (
            SELECT 1 FROM identity_group_members o
            WHERE o.group_name = m.group_name AND o.principal_type = m.principal_type
              AND o.principal_name = lower(m.principal_name))`.execute(db);
      await sql`DELETE FROM identity_group_members WHERE principal_name <> lower(principal_name)`.execute(
        db,
      );
      await sql`UPDATE identity_role_bindings SET principal_name = lower(principal_name) WHERE principal_name <> lower(principal_name)`.execute(
        db,
      );
    },
  },
  '2026-12-02T1401-identity-creators': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      // Who created a principal; unknown (null) for those that exist already.
      await db.schema.alterTable('identity_principals').addColumn('created_by', 'text').execute();
      // Token issuers become principals (`user:admin`, `system:custody`) instead of bare names.
      await sql`
        UPDATE identity_tokens SET created_by = CASE
          WHEN kind = 'session' OR created_by = (
              SELECT p.name FROM identity_principals p WHERE p.id = identity_tokens.principal_id)
            THEN (
              SELECT CASE p.kind WHEN 'service_account' THEN 'serviceaccount:' ELSE 'user:' END || p.name
              FROM identity_principals p WHERE p.id = identity_tokens.principal_id)
          WHEN created_by = 'custody' AND NOT EXISTS (
              SELECT 1 FROM identity_principals p WHERE p.name = 'custody' AND p.deleted_at IS NULL)
            THEN 'system:custody'
          ELSE COALESCE((
              SELECT CASE p.kind WHEN 'service_account' THEN 'serviceaccount:' ELSE 'user:' END || p.name
              FROM identity_principals p
              WHERE p.name = identity_tokens.created_by AND p.deleted_at IS NULL),
            'user:' || created_by)
        END
        WHERE created_by NOT LIKE '%:%'`.execute(db);
    },
  },
  '2026-12-02T1402-identity-links': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      // Checks come before any change: SQLite migrations run outside a transaction.
      const shared = await sql<{ email: string }>`
        SELECT lower(trim(email)) AS email FROM identity_principals
        WHERE deleted_at IS NULL AND kind = 'user' AND email IS NOT NULL AND trim(email) <> ''
        GROUP BY lower(trim(email)) HAVING count(*) > 1`.execute(db);
      if (shared.rows.length > 0)
        throw new Error(
          `users sharing an e-mail address: ${shared.rows.map((r) => r.email).join(', ')}; give each user its own address (or delete one) and start again`,
        );
      await db.schema
        .createTable('identity_links')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('principal_id', 'text', (c) => c.notNull().references('identity_principals.id'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('normalized', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('removed_at', 'text')
        .execute();
      // One live owner per identity: an e-mail or login never points at two people.
      await sql`CREATE UNIQUE INDEX identity_links_live_value ON identity_links (kind, normalized) WHERE removed_at IS NULL`.execute(
        db,
      );
      await db.schema
        .createIndex('identity_links_principal')
        .on('identity_links')
        .column('principal_id')
        .execute();
      // A user's own e-mail is a linked identity.
      await sql`
        INSERT INTO identity_links (id, principal_id, kind, value, normalized, source, created_at, created_by, removed_at)
        SELECT 'lnk_profile_' || id, id, 'email', trim(email), lower(trim(email)), 'profile', created_at, NULL, NULL
        FROM identity_principals
        WHERE deleted_at IS NULL AND kind = 'user' AND email IS NOT NULL AND trim(email) <> ''`.execute(
        db,
      );
    },
  },
  '2026-12-02T1403-identity-login-throttle': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('identity_login_throttle')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('failures', 'integer', (c) => c.notNull())
        .addColumn('last_failure_at', 'text')
        .addColumn('locked_until', 'text')
        .execute();
      await db.schema
        .createIndex('identity_login_throttle_last_failure')
        .on('identity_login_throttle')
        .column('last_failure_at')
        .execute();
    },
  },
};
