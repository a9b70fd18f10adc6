import type { AnyTx, Database } from '../../platform/db/database.ts';
import { DomainError } from '../../platform/errors.ts';
import { pipelineErrors } from './errors.ts';
import type { PipelineSpec } from './pipeline-spec.ts';
import type { KyselyPipelineStore } from './pipeline-store.ts';

export interface PipelineVersion {
  project: string;
  name: string;
  version: number;
  contentHash: string;
  governed: boolean;
  author: string;
  spec: PipelineSpec;
}

// Read side for the execution engine and the webhook triggers.
export class PipelineService {
  constructor(private readonly deps: { database: Database; store: KyselyPipelineStore }) {}

  async version(
    project: string,
    name: string,
    version: number | 'latest' = 'latest',
    tx?: AnyTx,
  ): Promise<PipelineVersion> {
    const row = await this.deps.store.version(tx ?? this.deps.database.db, project, name, version);
    if (!row)
      throw new DomainError(
        pipelineErrors.PIPELINES_PIPELINE_NOT_FOUND,
        `no pipeline ${project}/${name}${version === 'latest' ? '' : ` version ${version}`}`,
      );
    return {
      project: row.project,
      name: row.name,
      version: row.version,
      contentHash: row.content_hash,
      governed: row.governed === 1,
      author: row.author,
      spec: JSON.parse(row.spec) as PipelineSpec,
    };
  }

  // Latest versions whose push trigger matches the branch.
  async pushTriggered(project: string, branch: string): Promise<PipelineVersion[]> {
    const rows = await this.deps.store.latestOfProject(this.deps.database.db, project);
    const out: PipelineVersion[] = [];
    for (const row of rows) {
      const spec = JSON.parse(row.spec) as PipelineSpec;
      if ((spec.triggers ?? []).some((t) => 'push' in t && t.push.branch === branch))
        out.push(await this.version(row.project, row.name, row.version));
    }
    return out;
  }
}
