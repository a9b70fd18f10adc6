import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { Database } from './database.ts';

// Each module contributes migrations named `YYYY-MM-DDTHHMM-<module>-<what>`; names sort by
// date so modules interleave in the order they were written. Migrations are frozen: never
// edited after they land, and they import no application code.
export type ModuleMigrations = Record<string, Migration>;

export async function migrateToLatest(database: Database, sets: ModuleMigrations[]): Promise<void> {
  const all: Record<string, Migration> = {};
  for (const set of sets) {
    for (const [name, migration] of Object.entries(set)) {
      if (!/^\d{4}-\d{2}-\d{2}T\d{4}-[a-z]+-[a-z0-9-]+$/.test(name)) {
        throw new Error(`migration name ${name} is not ISO-dated (YYYY-MM-DDTHHMM-module-what)`);
      }
      if (all[name]) throw new Error(`migration ${name} declared twice`);
      all[name] = migration;
    }
  }
  const provider: MigrationProvider = { getMigrations: async () => all };
  const migrator = new Migrator({ db: database.db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(
      `migration ${failed?.migrationName ?? '?'} failed: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
