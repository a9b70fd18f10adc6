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
};
