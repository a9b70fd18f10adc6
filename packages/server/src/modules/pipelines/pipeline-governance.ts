import type { RequestContext } from '../../platform/context.ts';
import type { AnyTx, Database } from '../../platform/db/database.ts';
import type { ApprovalService, ApprovalView } from '../approvals/index.ts';
import type { ProjectService } from '../projects/index.ts';
import type { PipelineVersion } from './pipeline-service.ts';

export const governedSubjectType = 'pipeline-version';
export const pipelineSubjectId = (project: string, name: string, version: number) =>
  `${project}/${name}@${version}`;

// A pipeline version that deploys to a production environment needs a second person's
// approval. "Deploys to production" is decided from the environments in force when it
// matters — when a run is created and at each deploy stage — not when the version was applied,
// so moving a stage's environment or flipping an environment's type never lets it through.
export class PipelineGovernance {
  constructor(
    private readonly deps: {
      database: Database;
      projects: ProjectService;
      approvals: ApprovalService;
    },
  ) {}

  async productionEnvironments(
    version: Pick<PipelineVersion, 'project' | 'spec'>,
    tx?: AnyTx,
  ): Promise<string[]> {
    const out: string[] = [];
    for (const stage of version.spec.stages) {
      if (!stage.environment || out.includes(stage.environment)) continue;
      const env = await this.deps.projects.environment(version.project, stage.environment, tx);
      if (env?.type === 'production') out.push(stage.environment);
    }
    return out;
  }

  async approvalOf(version: PipelineVersion, tx?: AnyTx): Promise<ApprovalView | undefined> {
    return this.deps.approvals.stateOf(
      governedSubjectType,
      pipelineSubjectId(version.project, version.name, version.version),
      tx,
    );
  }

  isApproved(version: PipelineVersion, approval: ApprovalView | undefined): boolean {
    return approval?.state === 'approved' && approval.subject.hash === version.contentHash;
  }

  // Opens the approval request of a version that now deploys to production, unless one exists.
  async requestApproval(
    tx: AnyTx,
    ctx: Pick<RequestContext, 'actor' | 'requestId'>,
    version: PipelineVersion,
    environments: readonly string[],
  ): Promise<string> {
    const existing = await this.approvalOf(version, tx);
    if (existing && existing.subject.hash === version.contentHash) return existing.id;
    return this.deps.approvals.requestInTx(tx, ctx, {
      subjectType: governedSubjectType,
      subjectId: pipelineSubjectId(version.project, version.name, version.version),
      subjectHash: version.contentHash,
      project: version.project,
      summary: `pipeline ${version.name} version ${version.version} deploys to production (${environments.join(', ')})`,
      author: version.author,
    });
  }

  // Deciding on a version needs the permission at each production environment it deploys to,
  // so an explicit deny there is not bypassed by an allow on the project.
  registerAuthorization(
    versionOf: (project: string, name: string, version: number) => Promise<PipelineVersion>,
  ): void {
    this.deps.approvals.onAuthorize(governedSubjectType, async (ctx, request, permission) => {
      const m = /^(.+)\/(.+)@(\d+)$/.exec(request.subject.id);
      if (!m) return;
      const version = await versionOf(m[1]!, m[2]!, Number(m[3]));
      for (const environment of await this.productionEnvironments(version))
        await ctx.guard.require(
          permission,
          { project: version.project, environment },
          { type: 'approval', id: request.id },
        );
    });
  }
}
