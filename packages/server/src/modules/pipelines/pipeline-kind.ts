import { DomainError } from '../../platform/errors.ts';
import type { ApprovalService } from '../approvals/index.ts';
import { principalOf } from '../approvals/index.ts';
import type { ProjectService } from '../projects/index.ts';
import type { KindHandler } from '../resources/index.ts';
import { pipelineErrors } from './errors.ts';
import { pipelinePermissions as P } from './permissions.ts';
import { pipelineSpecSchema, type PipelineSpec } from './pipeline-spec.ts';
import type { KyselyPipelineStore } from './pipeline-store.ts';

export const governedSubjectType = 'pipeline-version';
export const pipelineSubjectId = (project: string, name: string, version: number) =>
  `${project}/${name}@${version}`;

// A pipeline that deploys to a production environment is governed: each new version opens
// an approval request that its author cannot decide.
export function pipelineKind(deps: {
  store: KyselyPipelineStore;
  projects: ProjectService;
  approvals: ApprovalService;
}): KindHandler<PipelineSpec> {
  return {
    kind: 'Pipeline',
    scope: 'project',
    description: 'Stages and steps that build, test and deploy a project',
    spec: pipelineSpecSchema,
    applyPermission: P['pipelines.pipeline.apply'],
    readPermission: P['pipelines.pipeline.read'],
    async validate(tx, doc) {
      const project = doc.metadata.project!;
      if (!(await deps.projects.projectExists(project, tx)))
        throw new DomainError(
          pipelineErrors.PIPELINES_PROJECT_NOT_FOUND,
          `project ${project} does not exist`,
        );
      for (const [i, stage] of doc.spec.stages.entries()) {
        if (stage.environment && !(await deps.projects.environment(project, stage.environment, tx)))
          throw new DomainError(
            pipelineErrors.PIPELINES_ENVIRONMENT_NOT_FOUND,
            `spec.stages[${i}].environment: environment ${stage.environment} does not exist in project ${project}`,
            { path: `spec.stages[${i}].environment` },
          );
      }
    },
    async materialize(tx, applied, ctx) {
      const project = applied.metadata.project!;
      const productionEnvironments: string[] = [];
      for (const stage of applied.spec.stages) {
        if (!stage.environment) continue;
        const env = await deps.projects.environment(project, stage.environment, tx);
        if (env?.type === 'production') productionEnvironments.push(stage.environment);
      }
      const governed = productionEnvironments.length > 0;
      const author = principalOf(ctx.actor);
      await deps.store.insertVersion(tx, {
        project,
        name: applied.metadata.name,
        version: applied.version,
        content_hash: applied.contentHash,
        spec: JSON.stringify(applied.spec),
        governed: governed ? 1 : 0,
        author,
        created_at: new Date().toISOString(),
      });
      if (governed) {
        const approval = await deps.approvals.requestInTx(tx, ctx, {
          subjectType: governedSubjectType,
          subjectId: pipelineSubjectId(project, applied.metadata.name, applied.version),
          subjectHash: applied.contentHash,
          project,
          summary: `pipeline ${applied.metadata.name} version ${applied.version} deploys to production (${productionEnvironments.join(', ')})`,
          author,
        });
        return { approval };
      }
      return undefined;
    },
  };
}
