import type { Database } from '../../platform/db/database.ts';
import type { AnyTx } from '../../platform/db/database.ts';
import type { EnvironmentSpec } from './environment-spec.ts';
import type { EnvironmentRow, KyselyProjectStore } from './project-store.ts';

export interface EnvironmentView {
  project: string;
  name: string;
  type: 'production' | 'pre-production';
  spec: EnvironmentSpec;
  version: number;
  contentHash: string;
}

// Read side used by other modules (pipelines, deployment gates).
export class ProjectService {
  constructor(private readonly deps: { database: Database; store: KyselyProjectStore }) {}

  async projectExists(name: string, tx?: AnyTx): Promise<boolean> {
    return this.deps.store.projectExists(tx ?? this.deps.database.db, name);
  }

  async environment(
    project: string,
    name: string,
    tx?: AnyTx,
  ): Promise<EnvironmentView | undefined> {
    const row = await this.deps.store.environment(tx ?? this.deps.database.db, project, name);
    return row ? toView(row) : undefined;
  }

  /** The policies the project binds (`Project.spec.policies`), as in force. */
  async projectPolicies(name: string, tx?: AnyTx): Promise<string[]> {
    return this.deps.store.projectPolicies(tx ?? this.deps.database.db, name);
  }

  /** Every production environment in force, by project and name. */
  async productionEnvironments(tx?: AnyTx): Promise<EnvironmentView[]> {
    return (
      await this.deps.store.environmentsOfType(tx ?? this.deps.database.db, 'production')
    ).map(toView);
  }

  /** The project's environments as in force, by name. */
  async environments(project: string, tx?: AnyTx): Promise<EnvironmentView[]> {
    return (await this.deps.store.environments(tx ?? this.deps.database.db, project)).map(toView);
  }
}

const toView = (row: EnvironmentRow): EnvironmentView => ({
  project: row.project,
  name: row.name,
  type: row.type as EnvironmentView['type'],
  spec: JSON.parse(row.spec) as EnvironmentSpec,
  version: row.version,
  contentHash: row.content_hash,
});
