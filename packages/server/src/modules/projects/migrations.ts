import type { Kysely } from 'kysely';
import type { ModuleMigrations } from '../../platform/db/migrator.ts';

// Frozen: never edit a migration that has landed; add a new one.
export const projectMigrations: ModuleMigrations = {
  '2026-11-22T0530-projects-projects': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('projects')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('environments')
        .addColumn('project', 'text', (c) => c.notNull().references('projects.name'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('content_hash', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('environments_pk', ['project', 'name'])
        .execute();
    },
  },
  '2026-11-22T0900-projects-environment-changes': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      // Versions of a production environment's rules that wait for a second person.
      await db.schema
        .createTable('environment_changes')
        .addColumn('project', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('content_hash', 'text', (c) => c.notNull())
        .addColumn('author', 'text', (c) => c.notNull())
        .addColumn('approval_id', 'text', (c) => c.notNull().unique())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('environment_changes_pk', ['project', 'name', 'version'])
        .execute();
    },
  },
  '2026-12-04T0110-projects-policies': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      // The policies a project binds (`Project.spec.policies`), as a JSON array of names.
      await db.schema
        .alterTable('projects')
        .addColumn('policies', 'text', (c) => c.notNull().defaultTo('[]'))
        .execute();
    },
  },
};
